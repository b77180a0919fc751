package agent_test

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/ingest/agent"
	"github.com/flowpol/flowpol/ingest/client"
	"github.com/flowpol/flowpol/ingest/internal/testagg"
	"github.com/flowpol/flowpol/ingest/server"
	"github.com/flowpol/flowpol/ingest/wire"
)

// An agent whose aggregator fails, and whose acknowledgements get lost,
// retries until every batch is in, and none is counted twice.
func TestAgentRetries(t *testing.T) {
	env := testagg.Start(t, server.Options{})
	var calls atomic.Int64
	real := newProxy(t, env.URL)
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n := calls.Add(1); {
		case n%3 == 1:
			http.Error(w, "down", http.StatusServiceUnavailable) // never reaches the aggregator
		case n%3 == 2:
			real.ServeHTTP(httptest.NewRecorder(), r) // reaches it, but the answer is lost
			http.Error(w, "timeout", http.StatusGatewayTimeout)
		default:
			real.ServeHTTP(w, r)
		}
	}))
	defer flaky.Close()
	reg := prometheus.NewRegistry()
	m := agent.NewMetrics(reg)
	a, spool := newAgent(t, flaky.URL, env.TokenFile, 0, m)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() {
		if err := a.Ship(ctx); err != nil {
			t.Error(err)
		}
	}()
	var want uint64
	for i := range 50 {
		rec := testagg.FrontendToAPI(i%60, uint64(i+1))
		want += rec.Count
		if err := a.Add(&rec); err != nil {
			t.Fatal(err)
		}
		if i%10 == 9 {
			if err := a.Seal(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := a.WaitShipped(ctx); err != nil {
		t.Fatal(err)
	}
	if got := env.Connections(t); got != want {
		t.Errorf("baseline holds %d connections, want %d", got, want)
	}
	if r := metricValue(t, reg, "flowpol_agent_batches_retried_total"); r < 5 {
		t.Errorf("%v retries; the flaky server should have caused at least 5", r)
	}
	if n, _ := spool.Len(); n != 0 {
		t.Errorf("%d batches left in the spool", n)
	}
}

// A full spool drops its oldest batches, and says how many records.
func TestSpoolDropsOldest(t *testing.T) {
	dir := t.TempDir()
	s, err := agent.OpenSpool(agent.SpoolOptions{Dir: dir, MaxBytes: 300, Node: "n"})
	if err != nil {
		t.Fatal(err)
	}
	var dropped int
	for i := range 20 {
		n, err := s.Put(&wire.Batch{Records: []flow.Record{testagg.FrontendToAPI(i, 1), testagg.FrontendToAPI(i, 2)}})
		if err != nil {
			t.Fatal(err)
		}
		dropped += n
	}
	batches, size := s.Len()
	if size > 300 || batches == 0 || dropped != 2*(20-batches) {
		t.Errorf("%d batches (%d bytes) kept, %d records dropped; want at most 300 bytes and the rest dropped", batches, size, dropped)
	}
	oldest, _ := s.Oldest()
	// Reopened, the spool has the same batches and numbers on.
	s2, err := agent.OpenSpool(agent.SpoolOptions{Dir: dir, MaxBytes: 300})
	if err != nil {
		t.Fatal(err)
	}
	if s2.Agent() != s.Agent() {
		t.Errorf("agent id changed on reopening: %s, then %s", s.Agent(), s2.Agent())
	}
	if o2, _ := s2.Oldest(); o2 != oldest {
		t.Errorf("oldest batch %+v after reopening, want %+v", o2, oldest)
	}
	b := &wire.Batch{Records: []flow.Record{testagg.FrontendToAPI(0, 1)}}
	if _, err := s2.Put(b); err != nil {
		t.Fatal(err)
	}
	if b.Seq != 21 {
		t.Errorf("the next batch after reopening is number %d, want 21", b.Seq)
	}
}

func newAgent(t testing.TB, url, tokenFile string, batch int, m *agent.Metrics) (*agent.Agent, *agent.Spool) {
	t.Helper()
	return newAgentWith(t, url, tokenFile, agent.Options{BatchRecords: batch, Metrics: m})
}

// newAgentWith is newAgent with more options: those it sets, and short
// backoffs, are filled in.
func newAgentWith(t testing.TB, url, tokenFile string, opts agent.Options) (*agent.Agent, *agent.Spool) {
	t.Helper()
	c, err := client.New(client.Options{Server: url, TokenFile: tokenFile})
	if err != nil {
		t.Fatal(err)
	}
	s, err := agent.OpenSpool(agent.SpoolOptions{Dir: t.TempDir(), Node: "node-a"})
	if err != nil {
		t.Fatal(err)
	}
	opts.Client, opts.Spool, opts.Node, opts.MinBackoff, opts.MaxBackoff = c, s, "node-a", time.Millisecond, 10*time.Millisecond
	a, err := agent.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return a, s
}

// newProxy forwards requests to url.
func newProxy(t testing.TB, url string) http.Handler {
	t.Helper()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := http.NewRequestWithContext(r.Context(), r.Method, url+r.URL.RequestURI(), r.Body)
		if err != nil {
			t.Error(err)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	})
}

// metricValue reads a counter or gauge without labels from reg.
func metricValue(t testing.TB, reg prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// Repeats' counts are added with saturation: a count at the largest a
// count can be, and one more, stay at the largest, not wrap round to 0.
func TestAgentMergeSaturates(t *testing.T) {
	tests := []struct {
		name   string
		counts []uint64
		want   uint64
	}{
		{"wraps", []uint64{math.MaxUint64, 1}, math.MaxUint64},
		{"wraps far", []uint64{math.MaxUint64 - 1, math.MaxUint64 - 1}, math.MaxUint64},
		{"fits", []uint64{math.MaxUint64 - 3, 3}, math.MaxUint64},
		{"small", []uint64{2, 3}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, spool := newAgent(t, "http://127.0.0.1:1", "", 0, nil) // never ships
			for _, n := range tt.counts {
				rec := testagg.FrontendToAPI(1, n)
				if err := a.Add(&rec); err != nil {
					t.Fatal(err)
				}
			}
			if err := a.Seal(); err != nil {
				t.Fatal(err)
			}
			sb, ok := spool.Oldest()
			if !ok {
				t.Fatal("nothing spooled")
			}
			data, err := spool.Read(sb)
			if err != nil {
				t.Fatal(err)
			}
			b, err := wire.DecodeBatch(data, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Records) != 1 || b.Records[0].Count != tt.want {
				t.Errorf("counts %v merged into %+v, want one record of count %d", tt.counts, b.Records, tt.want)
			}
		})
	}
}

// A record carrying a DNS answer is never merged: two answers to one
// client in the same second both reach the aggregator, with their moments
// and addresses, and the query's count is not folded into them.
func TestAgentKeepsDNSAnswers(t *testing.T) {
	a, spool := newAgent(t, "http://127.0.0.1:1", "", 0, nil) // never ships
	query := testagg.FrontendToAPI(1, 1)
	var answers [2]flow.Record
	for i := range answers {
		answers[i] = query
		answers[i].Count = 0
		answers[i].DNS = &flow.DNS{Name: "api.example.com", TTL: 30, Answers: []netip.Addr{netip.AddrFrom4([4]byte{203, 0, 113, byte(i + 1)})}}
	}
	for _, rec := range []flow.Record{query, answers[0], query, answers[1]} {
		if err := a.Add(&rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Seal(); err != nil {
		t.Fatal(err)
	}
	sb, ok := spool.Oldest()
	if !ok {
		t.Fatal("nothing spooled")
	}
	data, err := spool.Read(sb)
	if err != nil {
		t.Fatal(err)
	}
	b, err := wire.DecodeBatch(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Records) != 3 || b.Records[0].Count != 2 || b.Records[0].DNS != nil ||
		!b.Records[1].DNS.Equal(answers[0].DNS) || !b.Records[2].DNS.Equal(answers[1].DNS) || b.Records[1].Count != 0 {
		t.Errorf("spooled %+v, want the query counted twice and both answers apart", b.Records)
	}
}

// A record no batch can carry is refused when added, and does not keep
// the records before it from being sealed: an agent never sends a time
// that UnixNano would wrap to another century.
func TestAgentRefusesTimeOutOfRange(t *testing.T) {
	a, spool := newAgent(t, "http://127.0.0.1:1", "", 0, nil) // never ships
	good, bad := testagg.FrontendToAPI(1, 1), testagg.FrontendToAPI(2, 1)
	bad.Time = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := a.Add(&good); err != nil {
		t.Fatal(err)
	}
	if err := a.Add(&bad); !errors.Is(err, wire.ErrTime) {
		t.Fatalf("a record at 2300: %v, want ErrTime", err)
	}
	if err := a.Seal(); err != nil {
		t.Fatalf("seal after the refused record: %v", err)
	}
	if n, _ := spool.Len(); n != 1 {
		t.Errorf("%d batches spooled, want the one with the good record", n)
	}
}

// An agent whose token the aggregator refuses stops after AuthFailures
// refusals with an error saying so, rather than retrying for ever.
func TestAgentStopsOnRefusedToken(t *testing.T) {
	env := testagg.Start(t, server.Options{})
	wrong := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(wrong, []byte("not-the-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	a, spool := newAgentWith(t, env.URL, wrong, agent.Options{AuthFailures: 3, Metrics: agent.NewMetrics(reg)})
	addBatch(t, a, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := a.Ship(ctx)
	if !errors.Is(err, client.ErrUnauthorized) || ctx.Err() != nil {
		t.Fatalf("Ship with a refused token: %v, want ErrUnauthorized before 20 s", err)
	}
	if n := env.Metric(t, "flowpol_aggregator_batches_total", "result", "unauthorized"); n != 3 {
		t.Errorf("the aggregator refused %v batches, want 3", n)
	}
	if n := metricValue(t, reg, "flowpol_agent_auth_failures_total"); n != 3 {
		t.Errorf("flowpol_agent_auth_failures_total is %v, want 3", n)
	}
	if n, _ := spool.Len(); n != 1 {
		t.Errorf("%d batches in the spool, want the one not shipped", n)
	}
}

// A daemon whose token is refused stops sending it, says so in its
// metrics, and ships as soon as the token file holds a good one.
func TestAgentWaitsForNewToken(t *testing.T) {
	env := testagg.Start(t, server.Options{})
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("not-the-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	a, _ := newAgentWith(t, env.URL, tokenFile, agent.Options{AuthFailures: 3, WaitForToken: true, Metrics: agent.NewMetrics(reg)})
	addBatch(t, a, 5)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	shipped := make(chan error, 1)
	go func() { shipped <- a.Ship(ctx) }()
	for metricValue(t, reg, "flowpol_agent_auth_blocked") != 1 {
		if ctx.Err() != nil {
			t.Fatal("the agent did not say it waits for a new token within 20 s")
		}
		time.Sleep(5 * time.Millisecond) // polling the condition, with a deadline
	}
	if n := env.Metric(t, "flowpol_aggregator_batches_total", "result", "unauthorized"); n != 3 {
		t.Errorf("the aggregator refused %v batches, want 3: the agent kept sending the refused token", n)
	}
	if err := os.WriteFile(tokenFile, []byte(testagg.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := a.WaitShipped(ctx); err != nil {
		t.Fatalf("with the good token: %v", err)
	}
	if n := env.Connections(t); n != 5 {
		t.Errorf("the baseline holds %d connections, want 5", n)
	}
	if v := metricValue(t, reg, "flowpol_agent_auth_blocked"); v != 0 {
		t.Errorf("flowpol_agent_auth_blocked is %v after shipping, want 0", v)
	}
	cancel()
	if err := <-shipped; err != nil {
		t.Errorf("Ship: %v", err)
	}
}

// addBatch adds a record of count n and seals it as a batch.
func addBatch(t testing.TB, a *agent.Agent, n uint64) {
	t.Helper()
	rec := testagg.FrontendToAPI(1, n)
	if err := a.Add(&rec); err != nil {
		t.Fatal(err)
	}
	if err := a.Seal(); err != nil {
		t.Fatal(err)
	}
}

// A spool whose next sequence number cannot be read is an error naming
// the file: numbering new batches from 1 again would make the aggregator
// take them for duplicates and drop them.
func TestSpoolCorruptSequence(t *testing.T) {
	dir := t.TempDir()
	s, err := agent.OpenSpool(agent.SpoolOptions{Dir: dir, Node: "n"})
	if err != nil {
		t.Fatal(err)
	}
	b := &wire.Batch{Records: []flow.Record{testagg.FrontendToAPI(1, 1)}}
	if _, err := s.Put(b); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(spooledOf(b)); err != nil {
		t.Fatal(err)
	}
	seq := filepath.Join(dir, "next-seq")
	if err := os.WriteFile(seq, []byte("\x00\x00garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := agent.OpenSpool(agent.SpoolOptions{Dir: dir, Node: "n"}); err == nil || !strings.Contains(err.Error(), seq) {
		t.Fatalf("a spool with a corrupt %s opened: %v, want an error naming it", seq, err)
	}
}

// spooledOf is the spooled batch b became.
func spooledOf(b *wire.Batch) agent.SpooledBatch {
	return agent.SpooledBatch{Seq: b.Seq, Records: len(b.Records)}
}
