package baseline

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/flowpol/flowpol/topology"
)

// Rounding is to multiples below zero as above: a bucket before 1970
// starts at a multiple of its width too. If it failed, a cell before 1970
// would land in the wrong bucket.
func TestRounding(t *testing.T) {
	tests := []struct {
		name              string
		t, w, floor, ceil int64
	}{
		{"on a multiple", 120, 60, 120, 120},
		{"inside", 121, 60, 120, 180},
		{"below zero", -1, 60, -60, 0},
		{"below zero on a multiple", -120, 60, -120, -120},
		{"zero", 0, 3600, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := FloorTo(tc.t, tc.w); got != tc.floor {
				t.Errorf("FloorTo(%d, %d) = %d, want %d", tc.t, tc.w, got, tc.floor)
			}
			if got := CeilTo(tc.t, tc.w); got != tc.ceil {
				t.Errorf("CeilTo(%d, %d) = %d, want %d", tc.t, tc.w, got, tc.ceil)
			}
		})
	}
	far := time.Unix(1<<62, 0)
	if got := ClampUnix(far); got != TimeLimit {
		t.Errorf("ClampUnix(far future) = %d, want TimeLimit", got)
	}
}

// Blocks and cut steps: a tier's block is one bucket of the next tier; the
// last tier's is a day of hours or an hour of minutes; a cut moves by the
// next tier's block. If it failed, stores would roll up partial blocks.
func TestBlocks(t *testing.T) {
	r := Retention{{Bucket: time.Minute, Keep: 48 * time.Hour}, {Bucket: time.Hour, Keep: 90 * 24 * time.Hour}}
	tests := []struct {
		name      string
		r         Retention
		tier      int
		cells     int64
		span      int64
		step, cut int64
	}{
		{"minutes before hours", r, 0, 60, 3600, 86400, FloorTo(1_000_000_000-48*3600, 86400)},
		{"hours last", r, 1, 24, 86400, 86400, FloorTo(1_000_000_000-90*86400, 86400)},
		{"minutes last, kept for ever", Retention{{Bucket: time.Minute}}, 0, 60, 3600, 3600, NoCut},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := []int64{tc.r.CellsPerBlock(tc.tier), tc.r.BlockSpan(tc.tier), tc.r.CutStep(tc.tier), tc.r.Cut(tc.tier, 1_000_000_000)}
			if want := []int64{tc.cells, tc.span, tc.step, tc.cut}; !reflect.DeepEqual(got, want) {
				t.Errorf("cells per block, span, cut step, cut = %v, want %v", got, want)
			}
		})
	}
}

// A window is split among the tiers that hold it, newest first, each part
// rounded out to its tier's width and kept between its cut and the finer
// tier's; the window's bounds and resolution are the spans'. If it
// failed, a window would count a bucket twice or miss one.
func TestSpans(t *testing.T) {
	r := Retention{{Bucket: time.Minute, Keep: 2 * time.Hour}, {Bucket: time.Hour, Keep: 48 * time.Hour}, {Bucket: 24 * time.Hour}}
	day := int64(1_764_000_000) / 86400 * 86400
	cuts := []int64{day + 10*3600, day - 86400, NoCut}
	tests := []struct {
		name     string
		from, to int64
		want     []TierSpan
	}{
		{"minutes only, rounded out", day + 11*3600 + 30, day + 12*3600 + 59, []TierSpan{{0, day + 11*3600, day + 12*3600 + 60}}},
		{"minutes and hours", day + 9*3600 + 1800, day + 11*3600, []TierSpan{{0, day + 10*3600, day + 11*3600}, {1, day + 9*3600, day + 10*3600}}},
		{"all three tiers", day - 3*86400, day + 10*3600 + 60, []TierSpan{
			{0, day + 10*3600, day + 10*3600 + 60}, {1, day - 86400, day + 10*3600}, {2, day - 3*86400, day - 86400}}},
		{"nothing", day + 13*3600, day + 13*3600, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Spans(r, cuts, tc.from, tc.to)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Spans = %v, want %v", got, tc.want)
			}
			var w topology.Window
			SetBounds(&w, r, got, time.Unix(tc.from, 0), time.Unix(tc.to, 0))
			if len(got) == 0 {
				if w.To.Sub(w.From) != time.Minute || w.Resolution != nil {
					t.Errorf("empty window bounds %s–%s, resolution %v; want one finest bucket, none", w.From, w.To, w.Resolution)
				}
				return
			}
			if w.From.Unix() != got[len(got)-1].From || w.To.Unix() != got[0].To || len(w.Resolution) != len(got) {
				t.Errorf("bounds %s–%s with %d spans of resolution, want the spans' %v", w.From, w.To, len(w.Resolution), got)
			}
			for i, sp := range w.Resolution {
				if want := r[got[len(got)-1-i].Tier].Bucket; sp.Bucket != want {
					t.Errorf("resolution %d: bucket %s, want %s (oldest first)", i, sp.Bucket, want)
				}
			}
		})
	}
	if got := fmt.Sprint(WindowSpans(r, cuts, time.Unix(day+11*3600, 0), time.Unix(day+11*3600+59, 1))); got != fmt.Sprint([]TierSpan{{0, day + 11*3600, day + 11*3600 + 60}}) {
		t.Errorf("WindowSpans rounds a fraction of a second up: %s", got)
	}
	if got := TierAt(cuts, day-2*86400); got != 2 {
		t.Errorf("TierAt before the hours' cut = %d, want 2", got)
	}
	if got := TierAt([]int64{day, day}, day-1); got != -1 {
		t.Errorf("TierAt past the last tier = %d, want -1", got)
	}
}
