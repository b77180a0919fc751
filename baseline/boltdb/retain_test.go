package boltdb

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/topology"
)

// day0 is midnight, the start of the simulated days.
var day0 = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

// simEdge is the i-th simulated edge.
func simEdge(i int) topology.Edge {
	src := topology.End{Kind: topology.KindWorkload, Workload: topology.WorkloadRef{Namespace: "ns", Kind: "Deployment", Name: fmt.Sprintf("w%d", i)}}
	return topology.Edge{Src: src, Dst: api, Port: 8080, Proto: flow.TCP}
}

// simDay is a day of cells every ten minutes (client 2, server 1, seen
// one second into the minute) on the edges given.
func simDay(day int, edges []int) *baseline.Delta {
	d := &baseline.Delta{}
	start := day0.Add(time.Duration(day) * 24 * time.Hour)
	for _, i := range edges {
		e := baseline.EdgeDelta{Edge: simEdge(i)}
		for m := 0; m < 24*60; m += 10 {
			e.Cells = append(e.Cells, cell(start.Add(time.Duration(m)*time.Minute+time.Second), 2, 1))
		}
		d.Edges = append(d.Edges, e)
	}
	return d
}

// TestRetention40Days: 40 days applied a day at a time with retention
// 1m:48h,1h:30d keep exactly two days of minute cells and thirty of hourly
// ones, count every connection once whatever the tier, remove an edge
// seen only in the first days, and answer 3h, 30d and 40d windows at the
// resolutions held. If it failed, a long-lived baseline would grow
// without bound, lose or double counts when it rolls up, or claim a
// resolution it does not have.
func TestRetention40Days(t *testing.T) {
	end := day0.Add(40 * 24 * time.Hour)
	now := day0
	r, _ := baseline.ParseRetention("1m:48h,1h:30d")
	s := openTest(t, Options{Retention: r, Now: func() time.Time { return now }})
	for day := range 40 {
		edges := []int{0, 1}
		if day < 5 {
			edges = append(edges, 2)
		}
		now = day0.Add(time.Duration(day+1) * 24 * time.Hour)
		apply(t, s, simDay(day, edges))
	}
	// Apply retains as of the data's time, 23:51 on the last day; the
	// clock then reaches midnight.
	if _, err := s.Retain(context.Background(), end); err != nil {
		t.Fatal(err)
	}
	st, err := s.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cut0, cut1 := end.Add(-48*time.Hour), end.Add(-30*24*time.Hour)
	wantTiers := []baseline.TierStatus{
		{Bucket: "1m", Keep: "48h", Cells: 2 * 2 * 144, Oldest: cut0},
		{Bucket: "1h", Keep: "30d", Cells: 2 * 28 * 24, Oldest: cut1},
	}
	if st.Edges != 2 || len(st.Tiers) != 2 || st.Tiers[0] != wantTiers[0] || st.Tiers[1] != wantTiers[1] {
		t.Errorf("status: %d edges, tiers %+v; want 2 edges, tiers %+v", st.Edges, st.Tiers, wantTiers)
	}
	minute := []topology.Span{{From: end.Add(-3 * time.Hour), To: end, Bucket: time.Minute}}
	both := []topology.Span{{From: cut1, To: cut0, Bucket: time.Hour}, {From: cut0, To: end, Bucket: time.Minute}}
	tests := []struct {
		name       string
		from       time.Time
		count      uint64
		first      time.Time
		resolution []topology.Span
	}{
		{"3h", end.Add(-3 * time.Hour), 18 * 2, end.Add(-3*time.Hour + time.Second), minute},
		{"30d", end.Add(-30 * 24 * time.Hour), 30 * 144 * 2, cut1.Add(time.Second), both},
		{"40d, older days aged out", end.Add(-40 * 24 * time.Hour), 30 * 144 * 2, cut1.Add(time.Second), both},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := window(t, s, tt.from, end)
			if len(w.Edges) != 2 {
				t.Fatalf("%d edges, want 2", len(w.Edges))
			}
			for _, e := range w.Edges {
				if e.Count != tt.count || !e.First.Equal(tt.first) || !e.Last.Equal(end.Add(-10*time.Minute+time.Second)) {
					t.Errorf("%v: count %d, %v..%v; want %d, %v..%v", e.Edge, e.Count, e.First, e.Last, tt.count, tt.first, end.Add(-10*time.Minute+time.Second))
				}
			}
			if fmt.Sprint(w.Resolution) != fmt.Sprint(tt.resolution) {
				t.Errorf("resolution %v, want %v", w.Resolution, tt.resolution)
			}
		})
	}
}

// TestRetainAll: "all" keeps every minute for ever. If it failed, a
// baseline asked to keep everything would lose old traffic.
func TestRetainAll(t *testing.T) {
	s := openTest(t, Options{Retention: baseline.Retention{{Bucket: time.Minute}}})
	apply(t, s, simDay(0, []int{0}))
	got, err := s.Retain(context.Background(), day0.AddDate(5, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	w := window(t, s, day0, day0.Add(24*time.Hour))
	if got != (baseline.Retained{}) || len(w.Edges) != 1 || w.Edges[0].Count != 144*2 {
		t.Errorf("retained %+v, window %+v; want nothing rolled and 288 connections", got, w.Edges)
	}
}

// TestRetainReport: Retain says what it rolled up, deleted and removed,
// and a second call at the same moment does nothing. If it failed, the
// operator's figures would be wrong or retention would redo work.
func TestRetainReport(t *testing.T) {
	r, _ := baseline.ParseRetention("1m:1h,1h:24h")
	s := openTest(t, Options{Retention: r, Now: func() time.Time { return day0 }})
	apply(t, s, simDay(0, []int{0, 1}))
	ctx := context.Background()
	got, err := s.Retain(ctx, day0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := baseline.Retained{RolledUp: 2 * 138, Deleted: 2 * 0, EdgesRemoved: 0}
	if got != want {
		t.Errorf("retain at the day's end: %+v, want %+v", got, want)
	}
	if got, _ = s.Retain(ctx, day0.Add(24*time.Hour)); got != (baseline.Retained{}) {
		t.Errorf("retain again: %+v, want nothing", got)
	}
	got, _ = s.Retain(ctx, day0.Add(50*time.Hour))
	if want := (baseline.Retained{RolledUp: 2 * 6, Deleted: 2*24 + 0, EdgesRemoved: 2}); got != want {
		t.Errorf("retain two days on: %+v, want %+v", got, want)
	}
	if st, _ := s.Status(ctx); st.Edges != 0 || st.Tiers[0].Cells != 0 || st.Tiers[1].Cells != 0 {
		t.Errorf("status after everything aged out: %+v", st)
	}
}
