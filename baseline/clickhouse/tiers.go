package clickhouse

import (
	"fmt"
	"slices"
	"strings"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/internal/duration"
)

// state is a cluster's retention as the store holds it: the tiers, and
// each tier's cut (the start, unix seconds, of what it holds), as the
// valid rollup commits say.
type state struct {
	tiers baseline.Retention
	cuts  []int64
	// rollups are the valid rollup commits, which count with the others.
	rollups []string
	// chains are each tier's valid rollup commits, in the chain's order.
	chains [][]rollupCommit
}

// rollupCommit is one row of a rollup commit: tier's cut moved from prev
// to cut.
type rollupCommit struct {
	commit    string
	tier      int
	prev, cut int64
}

// chain finds each tier's cut from its rollup commits: starting from no
// cut, the commit that moved the cut on from where it stood (the least id
// when two did), and so on. Commits off the chain (a second writer's
// rollup of the same blocks) do not count.
func chain(tiers baseline.Retention, rs []rollupCommit) *state {
	st := chainCuts(len(tiers), rs)
	st.tiers = tiers
	return st
}

// chainCuts is chain for n tiers, whatever their widths.
func chainCuts(n int, rs []rollupCommit) *state {
	st := &state{cuts: make([]int64, n), chains: make([][]rollupCommit, n)}
	slices.SortFunc(rs, func(a, b rollupCommit) int { return strings.Compare(a.commit, b.commit) })
	for i := range n {
		cur := int64(baseline.NoCut)
		for {
			j := slices.IndexFunc(rs, func(r rollupCommit) bool { return r.tier == i && r.prev == cur && r.cut > cur })
			if j < 0 {
				break
			}
			cur = rs[j].cut
			st.rollups = append(st.rollups, rs[j].commit)
			st.chains[i] = append(st.chains[i], rs[j])
		}
		st.cuts[i] = cur
	}
	return st
}

// liveRollups are, per tier, the commits of its chain still needed:
// those whose cells (in the next tier, from their prev to their cut) are
// not yet before the next tier's cut, or past the last tier, which has
// none, the one that moved the cut to where it is.
func (st *state) liveRollups() [][]rollupCommit {
	out := make([][]rollupCommit, len(st.chains))
	for i, ch := range st.chains {
		dead := func(r rollupCommit) bool { return r.cut < st.cuts[i] }
		if i+1 < len(st.cuts) {
			dead = func(r rollupCommit) bool { return st.cuts[i+1] != baseline.NoCut && r.cut <= st.cuts[i+1] }
		}
		j := slices.IndexFunc(ch, func(r rollupCommit) bool { return !dead(r) })
		if j >= 0 {
			out[i] = ch[j:]
		}
	}
	return out
}

// sameWidths checks that r has the widths the store was made with.
func sameWidths(have, r baseline.Retention) error {
	same := len(r) == len(have)
	for i := 0; same && i < len(r); i++ {
		same = r[i].Bucket == have[i].Bucket
	}
	if !same {
		return fmt.Errorf("retention %s: the store's tiers are %s; only how long each is kept can change (finest %s)", r, have, duration.Format(have[0].Bucket))
	}
	return nil
}
