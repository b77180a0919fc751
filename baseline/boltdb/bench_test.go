package boltdb

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/internal/procstat"
)

// BenchmarkBytesPerEdgeMinute: the file's bytes per edge-minute at the
// finest tier, every edge every minute for a day (target ≤ 4), as
// written and after compaction.
func BenchmarkBytesPerEdgeMinute(b *testing.B) {
	const edges, hours = 2000, 24
	for range b.N {
		path := filepath.Join(b.TempDir(), "b.db")
		s, err := Open(path, Options{Retention: baseline.Retention{{Bucket: time.Minute}}})
		if err != nil {
			b.Fatal(err)
		}
		for h := range hours {
			apply(b, s, hourDelta(day0.Add(time.Duration(h)*time.Hour), edges, uint64(h)))
		}
		written := usedBytes(b, path)
		if err := s.Compact(context.Background()); err != nil {
			b.Fatal(err)
		}
		s.Close()
		cells := float64(edges * hours * 60)
		b.ReportMetric(float64(written)/cells, "B/edge-minute")
		b.ReportMetric(float64(usedBytes(b, path))/cells, "B/edge-minute-compacted")
		b.ReportMetric(float64(fileSize(path))/cells, "B/edge-minute-file")
	}
}

// BenchmarkRetention90Days: a steady 22,500 edges, every edge every
// minute, an hour per delta, with the default retention (Apply runs it as
// time advances): the file's size (target ≤ 1 GiB) and the time of a
// 30-day window (target ≤ 3 s; also reported as the CPU time it took,
// which a busy machine does not inflate). FLOWPOL_BENCH_DAYS sets the days
// simulated (default 90).
func BenchmarkRetention90Days(b *testing.B) {
	days := 90
	if v := os.Getenv("FLOWPOL_BENCH_DAYS"); v != "" {
		var err error
		if days, err = strconv.Atoi(v); err != nil || days < 1 {
			b.Fatalf("FLOWPOL_BENCH_DAYS=%q: want a number of days", v)
		}
	}
	const edges = 22500
	for range b.N {
		path := filepath.Join(b.TempDir(), "b.db")
		now := day0
		var r baseline.Retention // FLOWPOL_BENCH_RETAIN tries another
		if v := os.Getenv("FLOWPOL_BENCH_RETAIN"); v != "" {
			var err error
			if r, err = baseline.ParseRetention(v); err != nil {
				b.Fatal(err)
			}
		}
		s, err := Open(path, Options{Now: func() time.Time { return now }, Retention: r})
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		started := time.Now()
		for h := range days * 24 {
			now = day0.Add(time.Duration(h+1) * time.Hour)
			apply(b, s, hourDelta(now.Add(-time.Hour), edges, uint64(h)))
		}
		b.ReportMetric(time.Since(started).Seconds()/float64(days*24), "s/hour-applied")
		ctx := context.Background()
		t := time.Now()
		cpu0, _ := procstat.CPUTime()
		w, err := s.Window(ctx, now.Add(-30*24*time.Hour), now)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(t).Seconds(), "s/30d-window")
		if cpu1, ok := procstat.CPUTime(); ok { // the process's CPU time: on a busy machine, what the window cost
			b.ReportMetric((cpu1 - cpu0).Seconds(), "cpu-s/30d-window")
		}
		if len(w.Edges) != edges {
			b.Fatalf("30-day window has %d edges, want %d", len(w.Edges), edges)
		}
		st, err := s.Status(ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(fileSize(path))/(1<<20), "MiB-file")
		stats := s.db.Stats()
		b.ReportMetric(float64(int64(stats.FreePageN+stats.PendingPageN)*int64(s.db.Info().PageSize))/(1<<20), "MiB-free")
		if err := s.Compact(ctx); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(fileSize(path))/(1<<20), "MiB-file-compacted")
		b.ReportMetric(float64(usedBytes(b, path))/(1<<20), "MiB-used-compacted")
		b.ReportMetric(float64(st.Tiers[0].Cells), "minute-cells")
		b.ReportMetric(float64(st.Tiers[1].Cells), "hour-cells")
		b.ReportMetric(float64(days), "days")
		s.Close()
	}
}
