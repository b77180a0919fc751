package boltdb

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/internal/duration"
)

// noCut is a tier's cut before anything was rolled out of it.
const noCut = math.MinInt64

// tierState is a tier of the file's retention with what it holds.
type tierState struct {
	baseline.Tier
	// cut is the start, unix seconds, of what the tier holds: older
	// buckets were rolled into the next tier or deleted. It is a multiple
	// of the tier's block span.
	cut   int64
	cells uint64 // cells held
}

// state is the file's retention and its progress: the meta bucket's tiers
// value.
type state struct {
	tiers []tierState
	// retained is the data time, unix seconds, retention last ran as of;
	// newest the end of the newest cell applied.
	retained, newest int64
}

// width is a tier's bucket width in seconds.
func (t *tierState) width() int64 { return int64(t.Bucket / time.Second) }

// cellsPerBlock is how many cells of tier i a block holds: one bucket of
// the next tier, or for the last tier a day of hourly or coarser buckets
// and an hour of finer ones.
func (st *state) cellsPerBlock(i int) int {
	if i+1 < len(st.tiers) {
		return int(st.tiers[i+1].Bucket / st.tiers[i].Bucket)
	}
	if st.tiers[i].Bucket >= time.Hour {
		return 24
	}
	return int(time.Hour / st.tiers[i].Bucket)
}

// span is a tier's block span in seconds.
func (st *state) span(i int) int64 { return int64(st.cellsPerBlock(i)) * st.tiers[i].width() }

// tierAt is the tier that holds a bucket starting at t, unix seconds, or
// -1 when it is past the last tier.
func (st *state) tierAt(t int64) int {
	for i := range st.tiers {
		if t >= st.tiers[i].cut {
			return i
		}
	}
	return -1
}

func (st *state) retention() baseline.Retention {
	r := make(baseline.Retention, len(st.tiers))
	for i, t := range st.tiers {
		r[i] = t.Tier
	}
	return r
}

func newState(r baseline.Retention) *state {
	st := &state{retained: noCut, newest: noCut}
	for _, t := range r {
		st.tiers = append(st.tiers, tierState{Tier: t, cut: noCut})
	}
	return st
}

func (st *state) encode() []byte {
	b := binary.AppendUvarint(nil, uint64(len(st.tiers)))
	for _, t := range st.tiers {
		b = binary.AppendUvarint(b, uint64(t.Bucket/time.Second))
		b = binary.AppendUvarint(b, uint64(t.Keep/time.Second))
		b = binary.AppendVarint(b, t.cut)
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
		t.cut, t.cells = d.varint(), d.uvarint()
		st.tiers = append(st.tiers, t)
	}
	st.retained, st.newest = d.varint(), d.varint()
	if err := d.done(); err != nil {
		return nil, fmt.Errorf("tiers: %w", err)
	}
	if err := st.retention().Validate(); err != nil {
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
	for i := range out.tiers {
		out.tiers[i].Keep = r[i].Keep
	}
	return &out, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// floorTo rounds t down to a multiple of w.
func floorTo(t, w int64) int64 { return floorDiv(t, w) * w }

// ceilTo rounds t up to a multiple of w.
func ceilTo(t, w int64) int64 { return -floorDiv(-t, w) * w }
