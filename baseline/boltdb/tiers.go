package boltdb

import (
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/internal/duration"
)

// tierState is a tier of the file's retention with the cells it holds.
type tierState struct {
	baseline.Tier
	cells uint64 // cells held
}

// state is the file's retention and its progress: the meta bucket's tiers
// value.
type state struct {
	tiers []tierState
	// ret is the tiers as a Retention, for baseline's arithmetic.
	ret baseline.Retention
	// cuts are, per tier, the start, unix seconds, of what it holds:
	// older buckets were rolled into the next tier or deleted. Each is a
	// multiple of the tier's cut step.
	cuts []int64
	// retained is the data time, unix seconds, retention last ran as of;
	// newest the end of the newest cell applied.
	retained, newest int64
}

// cellsPerBlock is how many cells of tier i a block holds
// (baseline.Retention.CellsPerBlock).
func (st *state) cellsPerBlock(i int) int { return int(st.ret.CellsPerBlock(i)) }

func (st *state) retention() baseline.Retention {
	r := make(baseline.Retention, len(st.tiers))
	for i, t := range st.tiers {
		r[i] = t.Tier
	}
	return r
}

func newState(r baseline.Retention) *state {
	st := &state{retained: baseline.NoCut, newest: baseline.NoCut, ret: slices.Clone(r)}
	for _, t := range r {
		st.tiers = append(st.tiers, tierState{Tier: t})
		st.cuts = append(st.cuts, baseline.NoCut)
	}
	return st
}

func (st *state) encode() []byte {
	b := binary.AppendUvarint(nil, uint64(len(st.tiers)))
	for i, t := range st.tiers {
		b = binary.AppendUvarint(b, uint64(t.Bucket/time.Second))
		b = binary.AppendUvarint(b, uint64(t.Keep/time.Second))
		b = binary.AppendVarint(b, st.cuts[i])
		b = binary.AppendUvarint(b, t.cells)
	}
	return binary.AppendVarint(binary.AppendVarint(b, st.retained), st.newest)
}

func decodeState(v []byte) (*state, error) {
	d := decoder{b: v}
	n := d.count()
	st := &state{}
	for range n {
		t := tierState{}
		t.Bucket = time.Duration(d.uvarint()) * time.Second
		t.Keep = time.Duration(d.uvarint()) * time.Second
		cut := d.varint()
		t.cells = d.uvarint()
		st.tiers = append(st.tiers, t)
		st.cuts = append(st.cuts, cut)
	}
	st.retained, st.newest = d.varint(), d.varint()
	if err := d.done(); err != nil {
		return nil, fmt.Errorf("tiers: %w", err)
	}
	st.ret = st.retention()
	if err := st.ret.Validate(); err != nil {
		return nil, fmt.Errorf("%w: tiers: %w", ErrCorrupt, err)
	}
	return st, nil
}

// withRetention returns the state with r's keeps, when r has the file's
// widths.
func (st *state) withRetention(r baseline.Retention) (*state, error) {
	if r[0].Bucket != st.tiers[0].Bucket {
		return nil, fmt.Errorf("retention %s: finest bucket %s differs from the file's %s", r, duration.Format(r[0].Bucket), duration.Format(st.tiers[0].Bucket))
	}
	same := len(r) == len(st.tiers)
	for i := 0; same && i < len(r); i++ {
		same = r[i].Bucket == st.tiers[i].Bucket
	}
	if !same {
		return nil, fmt.Errorf("retention %s: the file's tiers are %s; only how long each is kept can change", r, st.retention())
	}
	out := *st
	out.tiers = append([]tierState(nil), st.tiers...)
	out.cuts = slices.Clone(st.cuts)
	for i := range out.tiers {
		out.tiers[i].Keep = r[i].Keep
	}
	out.ret = out.retention()
	return &out, nil
}
