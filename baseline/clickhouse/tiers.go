package clickhouse

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/internal/duration"
)

// noCut is a tier's cut before anything was rolled out of it.
const noCut = math.MinInt64

// state is a cluster's retention as the store holds it: the tiers, and
// each tier's cut (the start, unix seconds, of what it holds), as the
// valid rollup commits say.
type state struct {
	tiers []baseline.Tier
	cuts  []int64
	// rollups are the valid rollup commits, which count with the others.
	rollups []string
}

func (st *state) width(i int) int64 { return int64(st.tiers[i].Bucket / time.Second) }

// cellsPerBlock is how many cells of tier i a block holds: one bucket of
// the next tier, or for the last tier a day of hourly or coarser buckets
// and an hour of finer ones. Windows report first and last seen at the
// block's precision, as the embedded store does.
func (st *state) cellsPerBlock(i int) int64 {
	if i+1 < len(st.tiers) {
		return int64(st.tiers[i+1].Bucket / st.tiers[i].Bucket)
	}
	if st.tiers[i].Bucket >= time.Hour {
		return 24
	}
	return int64(time.Hour / st.tiers[i].Bucket)
}

func (st *state) span(i int) int64 { return st.cellsPerBlock(i) * st.width(i) }

// cutStep is how far a tier's cut moves at a time: one block of the next
// tier, or for the last tier one of its own.
func (st *state) cutStep(i int) int64 {
	if i+1 < len(st.tiers) {
		return st.span(i + 1)
	}
	return st.span(i)
}

// tierAt is the tier that holds a bucket starting at t, or -1 past the
// last.
func (st *state) tierAt(t int64) int {
	for i := range st.tiers {
		if t >= st.cuts[i] {
			return i
		}
	}
	return -1
}

// tierSpan is the part of a window one tier answers, unix seconds.
type tierSpan struct {
	tier     int
	from, to int64
}

// timeLimit bounds the unix seconds a window is computed in.
const timeLimit = math.MaxInt64 / 4

// spans splits [from, to) among the tiers that hold it, newest first.
func (st *state) spans(from, to int64) []tierSpan {
	var out []tierSpan
	upper := int64(timeLimit)
	for i := range st.tiers {
		lo := max(floorTo(from, st.width(i)), st.cuts[i])
		hi := min(ceilTo(to, st.width(i)), upper)
		if lo < hi {
			out = append(out, tierSpan{i, lo, hi})
		}
		if st.cuts[i] == noCut {
			break
		}
		upper = st.cuts[i]
	}
	return out
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func floorTo(t, w int64) int64 { return floorDiv(t, w) * w }
func ceilTo(t, w int64) int64  { return -floorDiv(-t, w) * w }

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
	st := &state{tiers: tiers, cuts: make([]int64, len(tiers))}
	slices.SortFunc(rs, func(a, b rollupCommit) int { return strings.Compare(a.commit, b.commit) })
	for i := range tiers {
		cur := int64(noCut)
		for {
			j := slices.IndexFunc(rs, func(r rollupCommit) bool { return r.tier == i && r.prev == cur && r.cut > cur })
			if j < 0 {
				break
			}
			cur = rs[j].cut
			st.rollups = append(st.rollups, rs[j].commit)
		}
		st.cuts[i] = cur
	}
	return st
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
