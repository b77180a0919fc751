package baseline

import (
	"math"
	"time"

	"github.com/flowpol/flowpol/topology"
)

// The arithmetic of tiers and windows every Store does alike: pure
// functions of a Retention, the tiers' cuts and unix seconds.

// NoCut is a tier's cut before anything was rolled out of it: the tier
// holds everything from the beginning of time.
const NoCut = math.MinInt64

// TimeLimit bounds the unix seconds a window is computed in, so rounding
// never overflows; buckets outside it cannot be stored.
const TimeLimit = math.MaxInt64 / 4

// FloorTo rounds t down to a multiple of w (w > 0), below zero too.
func FloorTo(t, w int64) int64 { return floorDiv(t, w) * w }

// CeilTo rounds t up to a multiple of w (w > 0), below zero too.
func CeilTo(t, w int64) int64 { return -floorDiv(-t, w) * w }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// ClampUnix is t in unix seconds, kept within ±TimeLimit.
func ClampUnix(t time.Time) int64 { return max(-TimeLimit, min(TimeLimit, t.Unix())) }

// Width is tier i's bucket width in seconds.
func (r Retention) Width(i int) int64 { return int64(r[i].Bucket / time.Second) }

// CellsPerBlock is how many cells of tier i a block holds: one bucket of
// the next tier, or for the last tier a day of hourly or coarser buckets
// and an hour of finer ones. Windows report first and last seen at the
// block's precision.
func (r Retention) CellsPerBlock(i int) int64 {
	if i+1 < len(r) {
		return int64(r[i+1].Bucket / r[i].Bucket)
	}
	if r[i].Bucket >= time.Hour {
		return 24
	}
	return int64(time.Hour / r[i].Bucket)
}

// BlockSpan is tier i's block span in seconds.
func (r Retention) BlockSpan(i int) int64 { return r.CellsPerBlock(i) * r.Width(i) }

// CutStep is how far tier i's cut moves at a time: one block of the next
// tier, so that each of its blocks is rolled up whole, once; for the last
// tier, one of its own blocks. A tier thus keeps its buckets for at least
// its keep and less than one step more.
func (r Retention) CutStep(i int) int64 {
	if i+1 < len(r) {
		return r.BlockSpan(i + 1)
	}
	return r.BlockSpan(i)
}

// Cut is where tier i's cut moves to as of now, unix seconds: its keep
// before now, rounded down to its cut step. A tier kept for ever has
// NoCut.
func (r Retention) Cut(i int, now int64) int64 {
	if r[i].Keep == 0 {
		return NoCut
	}
	return FloorTo(now-int64(r[i].Keep/time.Second), r.CutStep(i))
}

// TierAt is the tier that holds a bucket starting at t, unix seconds,
// given each tier's cut (the start of what it holds, finest first), or -1
// past the last tier.
func TierAt(cuts []int64, t int64) int {
	for i, c := range cuts {
		if t >= c {
			return i
		}
	}
	return -1
}

// TierSpan is the part of a window one tier answers, unix seconds.
type TierSpan struct {
	Tier     int
	From, To int64
}

// Spans splits [from, to), unix seconds, among the tiers that hold it,
// each part rounded out to its tier's width and kept inside what the tier
// holds (from its cut up to the finer tier's cut), newest first.
func Spans(r Retention, cuts []int64, from, to int64) []TierSpan {
	var out []TierSpan
	upper := int64(TimeLimit)
	for i := range r {
		lo := max(FloorTo(from, r.Width(i)), cuts[i])
		hi := min(CeilTo(to, r.Width(i)), upper)
		if lo < hi {
			out = append(out, TierSpan{i, lo, hi})
		}
		if cuts[i] == NoCut {
			break
		}
		upper = cuts[i]
	}
	return out
}

// WindowSpans is Spans for a window's times: from rounded down and to
// rounded up to whole seconds.
func WindowSpans(r Retention, cuts []int64, from, to time.Time) []TierSpan {
	hi := ClampUnix(to)
	if to.Nanosecond() > 0 {
		hi++
	}
	return Spans(r, cuts, ClampUnix(from), hi)
}

// SetBounds gives a window its bounds and resolution: the spans', or,
// when no tier holds any of [from, to), the request rounded out to the
// finest width (at least one bucket).
func SetBounds(w *topology.Window, r Retention, spans []TierSpan, from, to time.Time) {
	if len(spans) == 0 {
		width := r.Width(0)
		lo, hi := FloorTo(ClampUnix(from), width), CeilTo(ClampUnix(to), width)
		if hi <= lo {
			hi = lo + width
		}
		w.From, w.To = time.Unix(lo, 0).UTC(), time.Unix(hi, 0).UTC()
		return
	}
	w.From, w.To = time.Unix(spans[len(spans)-1].From, 0).UTC(), time.Unix(spans[0].To, 0).UTC()
	for i := len(spans) - 1; i >= 0; i-- {
		sp := spans[i]
		w.Resolution = append(w.Resolution, topology.Span{
			From: time.Unix(sp.From, 0).UTC(), To: time.Unix(sp.To, 0).UTC(), Bucket: r[sp.Tier].Bucket,
		})
	}
}
