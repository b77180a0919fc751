package generator

import (
	"testing"
	"time"

	"github.com/flowpol/flowpol/topology"
)

// TestWindowAnnotation: the window annotation says each part's bucket
// width when the baseline gave them. If it failed, a policy learned from
// hourly buckets would claim minute detail, or the old form would change.
func TestWindowAnnotation(t *testing.T) {
	a := time.Date(2026, 10, 11, 0, 0, 0, 0, time.UTC)
	b, c := a.Add(28*24*time.Hour), a.Add(30*24*time.Hour)
	tests := []struct {
		name string
		w    topology.Window
		want string
	}{
		{"no resolution", topology.Window{From: a, To: c}, "2026-10-11T00:00:00Z/2026-11-10T00:00:00Z"},
		{"one width", topology.Window{From: b, To: c, Resolution: []topology.Span{{From: b, To: c, Bucket: time.Minute}}}, "2026-11-08T00:00:00Z/2026-11-10T00:00:00Z at 1m"},
		{"two tiers", topology.Window{From: a, To: c, Resolution: []topology.Span{{From: a, To: b, Bucket: time.Hour}, {From: b, To: c, Bucket: time.Minute}}},
			"2026-10-11T00:00:00Z/2026-11-08T00:00:00Z at 1h, 2026-11-08T00:00:00Z/2026-11-10T00:00:00Z at 1m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := windowAnnotation(&tt.w); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
