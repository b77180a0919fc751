package clickhouse

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/generator"
	"github.com/flowpol/flowpol/internal/chserver"
	"github.com/flowpol/flowpol/internal/synth"
	"github.com/flowpol/flowpol/topology"
)

// BenchmarkGenerateFromStore is `flowpol generate --window 3h` for the
// synthetic cluster of 2,000 workloads (FLOWPOL_BENCH_RECORDS records, 1 M
// by default: they are held in memory to learn both stores) from a baseline file and from
// ClickHouse (a server of the benchmark's own), the same records learned
// into each, untimed. Reported: ms per generate (reading the window and
// making the policies), and edges; and, since wall time on a shared
// machine says little, the CPU time per generate: cpu-ms of this process
// and the server together, server-cpu-ms of the server alone. The target
// is ClickHouse within 2× the file.
func BenchmarkGenerateFromStore(b *testing.B) {
	records := 1_000_000
	if os.Getenv("FLOWPOL_BENCH_RECORDS") != "" {
		records = synth.BenchRecords(b)
	}
	c, recs := synthFlows(b, synth.Options{}, records)
	_, until := c.Span()
	from := until.Add(-3 * time.Hour)
	srv := startServers(b, 1)
	stores := []struct {
		name   string
		store  baseline.Store
		server *chserver.Server
	}{
		{"bbolt", openBolt(b, boltOptions()), nil},
		{"clickhouse", openCH(b, storeURL(srv, "benchgen", false, ""), Options{}), srv[0]},
	}
	for _, s := range stores {
		learnInto(b, c, recs, s.store, 500_000)
		b.Run(s.name, func(b *testing.B) {
			var w *topology.Window
			var res *generator.Result
			cpu := startCPU(b, s.server)
			for b.Loop() {
				var err error
				if w, err = s.store.Window(context.Background(), from, until); err != nil {
					b.Fatal(err)
				}
				res = generator.Generate(w, generator.Options{SkipNamespaces: []string{"kube-system"}})
			}
			cpu.report(b)
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms")
			b.ReportMetric(float64(len(w.Edges)), "edges")
			b.ReportMetric(float64(len(res.Policies)), "policies")
		})
	}
}

// BenchmarkBytesPerEdgeMinute is the store's bytes on disk per edge-minute
// at the finest tier, every one of 2,000 edges every minute for a day,
// applied an hour at a time, after ClickHouse has merged its parts
// (OPTIMIZE … FINAL).
func BenchmarkBytesPerEdgeMinute(b *testing.B) {
	const edges, hours = 2000, 24
	srv := startServers(b, 1)
	day0 := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	for i := range b.N {
		s := openCH(b, storeURL(srv, fmt.Sprintf("bytes%d", i), false, ""), Options{Retention: baseline.Retention{{Bucket: time.Minute}}})
		for h := range hours {
			if _, err := s.Apply(context.Background(), hourDelta(day0.Add(time.Duration(h)*time.Hour), edges)); err != nil {
				b.Fatal(err)
			}
		}
		written := diskBytes(b, s)
		for _, t := range allTables {
			if err := s.db.conn.Exec(context.Background(), "OPTIMIZE TABLE "+s.db.local(t)+" FINAL"); err != nil {
				b.Fatal(err)
			}
		}
		cells := float64(edges * hours * 60)
		b.ReportMetric(float64(written)/cells, "B/edge-minute")
		b.ReportMetric(float64(diskBytes(b, s))/cells, "B/edge-minute-merged")
	}
}

// cpuClock reads the CPU time of this process and of a server.
type cpuClock struct {
	server         *chserver.Server
	client, inServ time.Duration
	ok             bool
}

func startCPU(b *testing.B, srv *chserver.Server) *cpuClock {
	c := &cpuClock{server: srv}
	c.client, c.ok = processCPU()
	if srv != nil && c.ok {
		var err error
		if c.inServ, err = srv.CPUTime(); err != nil {
			b.Logf("no server CPU time: %v", err)
			c.ok = false
		}
	}
	return c
}

// report adds the CPU time since start, per operation.
func (c *cpuClock) report(b *testing.B) {
	client, ok := processCPU()
	if !ok || !c.ok {
		return
	}
	var server time.Duration
	if c.server != nil {
		now, err := c.server.CPUTime()
		if err != nil {
			b.Logf("no server CPU time: %v", err)
			return
		}
		server = now - c.inServ
	}
	perOp := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(perOp(client-c.client+server), "cpu-ms")
	b.ReportMetric(perOp(server), "server-cpu-ms")
}

func diskBytes(b *testing.B, s *Store) int64 {
	n, err := s.DiskBytes(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// hourDelta is an hour of edges, each seen every minute.
func hourDelta(start time.Time, edges int) *baseline.Delta {
	d := &baseline.Delta{}
	for e := range edges {
		edge := topology.Edge{
			Src:  topology.End{Kind: topology.KindWorkload, Workload: topology.WorkloadRef{Namespace: "team", Kind: "Deployment", Name: fmt.Sprintf("client-%d", e)}},
			Dst:  topology.End{Kind: topology.KindExternal, Addr: netip.AddrFrom4([4]byte{203, 0, byte(e >> 8), byte(e)})},
			Port: 443, Proto: flow.TCP,
		}
		ed := baseline.EdgeDelta{Edge: edge, SrcPods: []uint64{uint64(e) + 1}, Nodes: []string{"node-a"}}
		for m := range 60 {
			ed.Cells = append(ed.Cells, baseline.Cell{Start: start.Unix() + int64(m)*60, Client: uint64(m%7 + 1), FirstMS: 100, LastMS: 59_000})
		}
		d.Edges = append(d.Edges, ed)
	}
	return d
}
