package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline/clickhouse"
)

// clickHouseConnections adds up every count the cluster's baseline in
// ClickHouse holds, read as a fresh process would.
func clickHouseConnections(t testing.TB, store string) uint64 {
	t.Helper()
	s, err := clickhouse.Open(context.Background(), store, clickhouse.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w, err := s.Window(context.Background(), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, e := range w.Edges {
		n += e.Count
	}
	return n
}

// Two aggregators write to one ClickHouse; two agents replay recorded
// flows to them, each naming both. One aggregator is killed with SIGKILL
// mid-ingest (its agents move to the other and send their batch in
// flight again), then ClickHouse is stopped for 30 s (the aggregators
// answer 503, the agents spool) and started again. Every record is in the
// baseline exactly once, and its topology is what learning the files
// into a baseline file gives.
func TestClickHouseReplicasExactlyOnce(t *testing.T) {
	dir := t.TempDir()
	srv := startClickHouse(t, 1)
	store := "clickhouse://" + srv[0].Addr() + "/replicas?cluster=test"
	const perAgent = 60_000
	files := []string{filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl")}
	for i, name := range files {
		f, err := os.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := writeRecords(f, i*perAgent, perAgent); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	var aggs []*aggregatorProc
	var procs []*exec.Cmd
	for i := range 2 {
		a := newAggregatorProc(t, dir)
		a.args = append(a.args[:0:0], a.args...)
		for j, arg := range a.args {
			if arg == "--db" {
				a.args[j], a.args[j+1] = "--store", fmt.Sprintf("%s&writer=agg%d", store, i)
			}
		}
		aggs = append(aggs, a)
		procs = append(procs, a.start(t, filepath.Join(dir, fmt.Sprintf("aggregator-%d.log", i))))
	}
	var agents []*exec.Cmd
	var outs []*bytes.Buffer
	for i, name := range files {
		servers := aggs[i].url() + "," + aggs[1-i].url()
		cmd := exec.Command(os.Args[0], "agent", "--server", servers, "--token-file", aggs[0].token, "--from", name,
			"--spool", filepath.Join(dir, fmt.Sprintf("spool-%d", i)), "--node", fmt.Sprintf("node-%d", i),
			"--batch-records", "500", "--min-backoff", "20ms", "--max-backoff", "200ms")
		cmd.Env = append(os.Environ(), "FLOWPOL_TEST_MAIN=1")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		agents, outs = append(agents, cmd), append(outs, &out)
	}
	waitMetric(t, aggs[0], "flowpol_aggregator_records_total", 0.25*perAgent)
	if err := procs[0].Process.Kill(); err != nil { // SIGKILL, mid-ingest
		t.Fatal(err)
	}
	procs[0].Wait()
	stored := clickHouseConnections(t, store)
	if stored == 0 || stored >= 2*perAgent {
		t.Fatalf("the kill left %d of %d connections stored: not mid-ingest, the test proves nothing", stored, 2*perAgent)
	}
	waitMetric(t, aggs[1], "flowpol_aggregator_records_total", 0.5*perAgent)
	srv[0].Kill()
	refused := waitRefused(t, aggs[1])
	time.Sleep(30 * time.Second)
	if err := srv[0].Restart(); err != nil {
		t.Fatal(err)
	}
	for i, cmd := range agents {
		if err := waitTimeout(cmd, 3*time.Minute); err != nil {
			t.Fatalf("agent %d: %v\n%s", i, err, outs[i])
		}
	}
	if !refused {
		t.Errorf("with ClickHouse down, the aggregator did not answer 503")
	}
	if got := clickHouseConnections(t, store); got != 2*perAgent {
		t.Fatalf("ClickHouse holds %d connections, want every one of the %d exactly once", got, 2*perAgent)
	}
	direct := filepath.Join(dir, "direct.db")
	for _, name := range files {
		mustRun(t, "learn", "--from", name, "--inventory", repoFile("testdata", "example", "cluster.yaml"), "--db", direct)
	}
	until := "2026-11-22T12:00:00Z"
	want := mustRun(t, "topology", "--db", direct, "--until", until).out
	if got := mustRun(t, "topology", "--store", store, "--until", until).out; got != want {
		t.Errorf("the replicas' baseline differs from learning the files directly:\n%s", firstDiff(want, got))
	}
}

// waitRefused waits until the aggregator refuses a batch with 503, as
// its metrics count refusals, and says whether it did.
func waitRefused(t testing.TB, p *aggregatorProc) bool {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		resp, err := http.Get("http://" + p.health + "/metrics")
		if err == nil {
			var b bytes.Buffer
			b.ReadFrom(resp.Body)
			resp.Body.Close()
			for _, line := range strings.Split(b.String(), "\n") {
				if strings.HasPrefix(line, "flowpol_aggregator_batches_total{") && strings.Contains(line, `"unavailable"`) && !strings.HasSuffix(line, " 0") {
					return true
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}
