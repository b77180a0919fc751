package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/baseline/boltdb"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/ingest/client"
	"github.com/flowpol/flowpol/ingest/server"
	"github.com/flowpol/flowpol/ingest/wire"
	"github.com/flowpol/flowpol/internal/procstat"
	"github.com/flowpol/flowpol/internal/synth"
	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/learn"
	"github.com/flowpol/flowpol/resolve"
)

const (
	benchAgents      = 100
	benchBatchRecs   = 1000
	benchDefaultRecs = 4_000_000
	benchToken       = "bench-token"
)

// BenchmarkIngest is the aggregator taking batches from 100 simulated
// agents over loopback HTTP, with token authentication: each agent sends
// its pre-encoded batches one at a time, as an agent does, and waits for
// each acknowledgement, which comes only after the commit. The traffic is
// two hours of the synthetic cluster (2,000 workloads, the same edges each
// hour); a batch holds one node's records, as an agent's does, and the
// batches are dealt round-robin to the agents, so that each sends as many
// (a node with a CoreDNS pod observes five times what others do). The
// growth of the file from the first hour to the second is its growth per
// hour at a steady edge set. FLOWPOL_BENCH_RECORDS sets the records (4 M
// by default), split evenly over the two hours. Reported:
// records/s, p99 batch latency (send to acknowledgement), peak resident
// memory (the pre-encoded batches, bodies-MiB, included), and db growth
// per hour.
func BenchmarkIngest(b *testing.B) {
	records := benchDefaultRecs
	if s := os.Getenv("FLOWPOL_BENCH_RECORDS"); s != "" {
		records = synth.BenchRecords(b)
	}
	inv, hours, bodyBytes := benchInputs(b, records/2)
	b.Logf("GOMAXPROCS=%d, %d agents, %d records in batches of %d, %.0f MiB of batches",
		runtime.GOMAXPROCS(0), benchAgents, records, benchBatchRecs, float64(bodyBytes)/(1<<20))
	runtime.GC()
	debug.FreeOSMemory()
	rssOK := procstat.ResetPeakRSS()
	cpu0, cpuOK := procstat.CPUTime()
	var lat []time.Duration
	var growth, size int64
	var edges int
	for b.Loop() {
		b.StopTimer()
		srv := startBenchServer(b, inv)
		b.StartTimer()
		var sizes [2]int64
		for h, agents := range hours {
			lat = append(lat, sendAll(b, srv.url, srv.tokenFile, agents)...)
			b.StopTimer()
			sizes[h] = srv.size(b)
			b.StartTimer()
		}
		b.StopTimer()
		growth, size, edges = sizes[1]-sizes[0], sizes[1], srv.edges(b)
		srv.stop(b)
		b.StartTimer()
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if cpu1, ok := procstat.CPUTime(); cpuOK && ok { // setup between iterations included
		b.ReportMetric(float64(records)*float64(b.N)/(cpu1-cpu0).Seconds(), "records/cpu-s")
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-batch-ms")
	if rss, ok := procstat.PeakRSS(); rssOK && ok {
		b.ReportMetric(float64(rss)/(1<<20), "peak-MiB")
	}
	b.ReportMetric(float64(bodyBytes)/(1<<20), "bodies-MiB")
	b.ReportMetric(float64(growth)/(1<<20), "db-growth-MiB/h")
	b.ReportMetric(float64(size)/(1<<20), "db-MiB")
	b.ReportMetric(float64(edges), "edges")
}

// benchInputs builds the cluster and encodes each hour's records into
// batches of one node's records, dealt round-robin to the agents as they
// fill (agent i's batches numbered on from one hour to the next).
func benchInputs(b *testing.B, perHour int) (*inventory.Inventory, [2][][][]byte, int) {
	dir := b.TempDir()
	var hours [2][][][]byte
	var inv *inventory.Inventory
	total := 0
	seqs := make([]uint64, benchAgents)
	for h := range hours {
		c, err := synth.New(synth.Options{End: time.Date(2026, 11, 22, 12+h, 0, 0, 0, time.UTC)})
		if err != nil {
			b.Fatal(err)
		}
		if inv == nil {
			inv = loadInventory(b, c, dir)
		}
		hours[h] = make([][][]byte, benchAgents)
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(c.WriteFlows(pw, perHour)) }()
		rd := flow.NewReader(bufio.NewReaderSize(pr, 1<<20), "synth")
		byNode := map[string][]flow.Record{} // the batches being filled
		next := 0                            // the agent the next full batch goes to
		for {
			rec, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			batch := append(byNode[rec.Node], *rec)
			if len(batch) == benchBatchRecs {
				total += encodeFor(b, hours[h], seqs, next%benchAgents, batch)
				next, batch = next+1, batch[:0]
			}
			byNode[rec.Node] = batch
		}
		for _, node := range slices.Sorted(maps.Keys(byNode)) {
			if batch := byNode[node]; len(batch) > 0 {
				total += encodeFor(b, hours[h], seqs, next%benchAgents, batch)
				next++
			}
		}
	}
	return inv, hours, total
}

// encodeFor encodes recs, one node's, as agent i's next batch.
func encodeFor(b *testing.B, agents [][][]byte, seqs []uint64, i int, recs []flow.Record) int {
	seqs[i]++
	data, err := wire.AppendBatch(nil, &wire.Batch{Agent: fmt.Sprintf("agent-%03d-bench", i), Seq: seqs[i], Node: recs[0].Node, Records: recs})
	if err != nil {
		b.Fatal(err)
	}
	agents[i] = append(agents[i], data)
	return len(data)
}

func loadInventory(b *testing.B, c *synth.Cluster, dir string) *inventory.Inventory {
	path := filepath.Join(dir, "cluster.yaml")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.WriteInventory(f); err != nil {
		b.Fatal(err)
	}
	f.Close()
	inv, err := inventory.LoadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return inv
}

// benchServer is an aggregator on a loopback port, as the command runs it.
type benchServer struct {
	url, tokenFile string
	store          baseline.Store
	l              *learn.Learner
	http           *http.Server
	cancel         func()
	done           chan error
}

func startBenchServer(b *testing.B, inv *inventory.Inventory) *benchServer {
	store, err := boltdb.Open(filepath.Join(b.TempDir(), "f.db"), boltdb.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return startBenchServerOn(b, inv, store, false)
}

// startBenchServerOn is an aggregator on store; shared says other
// aggregators write to it too.
func startBenchServerOn(b *testing.B, inv *inventory.Inventory, store baseline.Store, shared bool) *benchServer {
	dir := b.TempDir()
	res := resolve.New(inv, resolve.Options{})
	l, err := learn.New(res, learn.Options{Bucket: store.Bucket(), KeepWaiting: true})
	if err != nil {
		b.Fatal(err)
	}
	newLearner := func() (*learn.Learner, error) { return learn.New(res, learn.Options{Bucket: store.Bucket()}) }
	sink, err := server.NewSink(context.Background(), store, l, server.SinkOptions{Shared: shared, NewLearner: newLearner})
	if err != nil {
		b.Fatal(err)
	}
	s := &benchServer{store: store, l: l, tokenFile: filepath.Join(dir, "token"), done: make(chan error, 1)}
	if err := os.WriteFile(s.tokenFile, []byte(benchToken), 0o600); err != nil {
		b.Fatal(err)
	}
	tokens, err := server.NewTokenFile(s.tokenFile, server.TokenFileOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() { s.done <- sink.Run(ctx) }()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s.url = "http://" + ln.Addr().String()
	s.http = &http.Server{Handler: server.New(server.Options{Sink: sink, Tokens: tokens})}
	go s.http.Serve(ln)
	return s
}

func (s *benchServer) size(b *testing.B) int64 {
	st, err := s.store.Status(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return st.FileBytes
}

func (s *benchServer) edges(b *testing.B) int {
	st, err := s.store.Status(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return st.Edges
}

func (s *benchServer) stop(b *testing.B) {
	s.http.Close()
	s.cancel()
	if err := <-s.done; err != nil {
		b.Fatal(err)
	}
	s.store.Close()
}

// sendAll has every agent send its batches, one at a time; it returns each
// batch's latency.
func sendAll(b *testing.B, url, tokenFile string, agents [][][]byte) []time.Duration {
	var mu sync.Mutex
	var all []time.Duration
	var wg sync.WaitGroup
	for _, batches := range agents {
		c, err := client.New(client.Options{Server: url, TokenFile: tokenFile, Timeout: 5 * time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		wg.Go(func() {
			lat := make([]time.Duration, 0, len(batches))
			for _, body := range batches {
				start := time.Now()
				if _, err := c.SendBatch(context.Background(), body); err != nil {
					b.Error(err)
					return
				}
				lat = append(lat, time.Since(start))
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return all
}
