package learn_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline/boltdb"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/internal/procstat"
	"github.com/flowpol/flowpol/internal/synth"
	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/learn"
	"github.com/flowpol/flowpol/resolve"
)

// BenchmarkLearn is `flowpol learn` on the synthetic cluster of the
// performance target (2,000 workloads, 20,000 workload edges, 10 million
// records): each iteration reads the flow file from disk, parses, resolves
// and aggregates it, and commits it to a new baseline. The target is at
// least 1 M records/s on one core (-cpu 1) and at most 512 MiB peak memory.
// Setup writes the inventory and the flow file to a temporary directory
// once. Each iteration loads the inventory the way the CLI does, which is
// not timed and whose CPU is not counted, but whose memory is: as in the
// CLI, learning does not hold the inventory, only the resolver made from
// it.
func BenchmarkLearn(b *testing.B) {
	benchLearn(b, synth.Options{}, false)
}

// BenchmarkLearnHeldOut is BenchmarkLearn on synth.HeldOut, a cluster
// shaped like the real ones it did worse on. The target is the same.
func BenchmarkLearnHeldOut(b *testing.B) {
	benchLearn(b, synth.HeldOut(), true)
}

// benchLearn writes the inputs of a synthetic cluster, untimed, then
// times learning its flow file into a new baseline and reports the
// figures. unresolved says whether records are meant to stay unresolved.
func benchLearn(b *testing.B, opts synth.Options, unresolved bool) {
	records := synth.BenchRecords(b)
	c, err := synth.New(opts)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	invPath, flows := writeInputs(b, c, dir, records)
	b.Logf("GOMAXPROCS=%d, %d records (%.0f MiB), %d edges planned",
		runtime.GOMAXPROCS(0), records, fileMiB(b, flows), c.Edges())
	u := startUsage()
	var dbBytes int64
	for i := 0; b.Loop(); i++ {
		u.pause(b)
		inv := loadInventory(b, invPath)
		u.resume(b)
		dbBytes = learnFile(b, inv, flows, filepath.Join(dir, fmt.Sprintf("%d.db", i)), records, unresolved)
	}
	u.report(b, records)
	b.ReportMetric(float64(dbBytes)/(1<<20), "db-MiB")
}

// writeInputs writes the cluster's inventory and flow records to dir and
// returns their paths.
func writeInputs(b *testing.B, c *synth.Cluster, dir string, records int) (inv, flows string) {
	inv, flows = filepath.Join(dir, "cluster.yaml"), filepath.Join(dir, "flows.jsonl")
	writeFile(b, inv, c.WriteInventory)
	writeFile(b, flows, func(w io.Writer) error { return c.WriteFlows(w, records) })
	return inv, flows
}

// loadInventory reads an inventory as `flowpol learn --inventory` does.
func loadInventory(b *testing.B, path string) *inventory.Inventory {
	inv, err := inventory.LoadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return inv
}

func writeFile(b *testing.B, path string, write func(io.Writer) error) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		b.Fatal(err)
	}
}

func fileMiB(b *testing.B, path string) float64 {
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return float64(st.Size()) / (1 << 20)
}

// learnFile is one `flowpol learn` run into a new baseline at db; it
// returns the baseline's size and removes it. unresolved says whether
// records are meant to be left unresolved.
func learnFile(b *testing.B, inv *inventory.Inventory, flows, db string, records int, unresolved bool) int64 {
	f, err := os.Open(flows)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	store, err := boltdb.Open(db, boltdb.Options{})
	if err != nil {
		b.Fatal(err)
	}
	l, err := learn.New(resolve.New(inv, resolve.Options{}), learn.Options{Bucket: store.Bucket(), Source: flows})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	run, err := learn.FromReader(ctx, flow.NewReader(f, flows), l, store, learn.BatchOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if err := store.RecordRun(ctx, run); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	defer b.StartTimer()
	if run.Records != uint64(records) || (len(run.Unresolved) != 0) != unresolved {
		b.Fatalf("learned %d of %d records, unresolved %v", run.Records, records, run.Unresolved)
	}
	st, err := store.Status(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if err := store.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Remove(db); err != nil {
		b.Fatal(err)
	}
	return st.FileBytes
}

// usage measures the CPU time and peak memory of the timed loop, with
// pauses whose CPU time is not counted.
type usage struct {
	meter  *meter
	cpu0   time.Duration
	paused time.Duration // the CPU time at the last pause
	cpuOK  bool
	rssOK  bool
}

// pause stops the timer and the CPU count.
func (u *usage) pause(b *testing.B) {
	b.StopTimer()
	u.paused, _ = procstat.CPUTime()
}

// resume starts them again.
func (u *usage) resume(b *testing.B) {
	now, _ := procstat.CPUTime()
	u.cpu0 += now - u.paused
	b.StartTimer()
}

func startUsage() *usage {
	runtime.GC()
	debug.FreeOSMemory() // setup's garbage is not the learn path's memory
	u := &usage{rssOK: procstat.ResetPeakRSS()}
	u.cpu0, u.cpuOK = procstat.CPUTime()
	u.meter = startMeter()
	return u
}

// report stops measuring and reports records/s, records/cpu-s (on a shared
// machine the wall clock also counts other processes), go-peak-MiB and,
// where the kernel tells, peak-MiB: the peak resident set.
func (u *usage) report(b *testing.B, records int) {
	goPeak := u.meter.stop()
	n := float64(records) * float64(b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "records/s")
	if cpu1, ok := procstat.CPUTime(); u.cpuOK && ok {
		b.ReportMetric(n/(cpu1-u.cpu0).Seconds(), "records/cpu-s")
	}
	b.ReportMetric(float64(goPeak)/(1<<20), "go-peak-MiB")
	if rss, ok := procstat.PeakRSS(); u.rssOK && ok {
		b.ReportMetric(float64(rss)/(1<<20), "peak-MiB")
	} else {
		b.Log("no peak resident set on this system: see go-peak-MiB")
	}
}

// meter samples the memory the Go runtime holds from the OS (heap, stacks,
// runtime structures; not what it has released) and keeps the largest.
type meter struct {
	done, stopped chan struct{}
	peak          uint64
}

func startMeter() *meter {
	m := &meter{done: make(chan struct{}), stopped: make(chan struct{})}
	go m.run()
	return m
}

func (m *meter) run() {
	defer close(m.stopped)
	samples := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		metrics.Read(samples)
		m.peak = max(m.peak, samples[0].Value.Uint64()-samples[1].Value.Uint64())
		select {
		case <-m.done:
			return
		case <-tick.C:
		}
	}
}

// stop ends sampling and returns the peak.
func (m *meter) stop() uint64 {
	close(m.done)
	<-m.stopped
	return m.peak
}
