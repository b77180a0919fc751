package server_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/flowpol/flowpol/baseline/boltdb"
	"github.com/flowpol/flowpol/baseline/clickhouse"
	"github.com/flowpol/flowpol/internal/chserver"
	"github.com/flowpol/flowpol/internal/synth"
)

// BenchmarkIngestClickHouse is BenchmarkIngest's 100 simulated agents in
// the same run against one aggregator on a baseline file and against two
// aggregators on one ClickHouse (a server of the benchmark's own, on this
// machine), each agent sending to one of the two. FLOWPOL_BENCH_RECORDS
// sets the records (1 M by default). Reported: records/s, and the store's
// size on disk.
func BenchmarkIngestClickHouse(b *testing.B) {
	records := 1_000_000
	if s := os.Getenv("FLOWPOL_BENCH_RECORDS"); s != "" {
		records = synth.BenchRecords(b)
	}
	inv, hours, _ := benchInputs(b, records/2)
	b.Logf("GOMAXPROCS=%d, %d agents, %d records in batches of %d", runtime.GOMAXPROCS(0), benchAgents, records, benchBatchRecs)
	b.Run("bbolt-1-aggregator", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			store, err := boltdb.Open(filepath.Join(b.TempDir(), "f.db"), boltdb.Options{})
			if err != nil {
				b.Fatal(err)
			}
			srv := startBenchServerOn(b, inv, store, false)
			b.StartTimer()
			for h := range hours {
				sendAll(b, srv.url, srv.tokenFile, hours[h])
			}
			b.StopTimer()
			b.ReportMetric(float64(srv.size(b))/(1<<20), "store-MiB")
			srv.stop(b)
			b.StartTimer()
		}
		b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("clickhouse-2-aggregators", func(b *testing.B) {
		ch, err := chserver.Start(chserver.Options{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		defer chserver.Stop(ch)
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			var srvs []*benchServer
			for w := range 2 {
				u := fmt.Sprintf("clickhouse://%s/bench%d?cluster=bench&writer=agg%d", ch[0].Addr(), i, w)
				store, err := clickhouse.Open(context.Background(), u, clickhouse.Options{})
				if err != nil {
					b.Fatal(err)
				}
				srvs = append(srvs, startBenchServerOn(b, inv, store, true))
			}
			b.StartTimer()
			for h := range hours {
				var wg sync.WaitGroup
				for w, srv := range srvs {
					var mine [][][]byte
					for a := w; a < len(hours[h]); a += 2 {
						mine = append(mine, hours[h][a])
					}
					wg.Go(func() { sendAll(b, srv.url, srv.tokenFile, mine) })
				}
				wg.Wait()
			}
			b.StopTimer()
			b.ReportMetric(float64(srvs[0].size(b))/(1<<20), "store-MiB")
			for _, srv := range srvs {
				srv.stop(b)
			}
			b.StartTimer()
		}
		b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
}
