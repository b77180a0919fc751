package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowpol/flowpol/cmd/flowpol/cli"
	"github.com/flowpol/flowpol/ingest/wire"
)

// runAggregator runs an aggregator in-process with a clock, until stop
// is called or the test ends.
func runAggregator(t testing.TB, p *aggregatorProc, now func() time.Time) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() {
		var out, errb bytes.Buffer
		code := cli.Run(ctx, p.args, cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errb, Now: now})
		done <- result{code: code, out: out.String(), err: errb.String()}
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if r := <-done; r.code != 0 {
			t.Errorf("aggregator: exit %d\n%s", r.code, r.err)
		}
	}
	t.Cleanup(stop)
	p.waitReady(t, "/dev/null")
	return stop
}

// splitByObserver writes the example's client-side records to one file
// and its server-side records to another: two agents, each reporting its
// own end of the same connections.
func splitByObserver(t testing.TB, dir string) []string {
	t.Helper()
	data, err := os.ReadFile(repoFile("testdata", "example", "flows.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var client, server strings.Builder
	for line := range strings.Lines(string(data)) {
		if strings.Contains(line, `"observer":"server"`) {
			server.WriteString(line)
		} else {
			client.WriteString(line)
		}
	}
	if client.Len() == 0 || server.Len() == 0 {
		t.Fatal("the example has no records of one side: the test would prove nothing")
	}
	files := []string{filepath.Join(dir, "client.jsonl"), filepath.Join(dir, "server.jsonl")}
	writeFile(t, files[0], client.String())
	writeFile(t, files[1], server.String())
	return files
}

func checkJSON(t testing.TB, out string) []wire.DeniedFlow {
	t.Helper()
	var flows []wire.DeniedFlow
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var f wire.DeniedFlow
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Fatalf("check --format json: %v: %s", err, sc.Text())
		}
		flows = append(flows, f)
	}
	return flows
}

func readStaged(t testing.TB, p *aggregatorProc) *wire.Staged {
	t.Helper()
	r := run(t, "", "staged", "--server", p.url(), "--token-file", p.token, "--format", "json")
	if r.code > 1 {
		t.Fatalf("staged: exit %d\n%s", r.code, r.err)
	}
	var st wire.Staged
	if err := json.Unmarshal([]byte(r.out), &st); err != nil {
		t.Fatalf("staged --format json: %v\n%s", err, r.out)
	}
	return &st
}

// Two agents replay the example's flows, one each end, to an aggregator
// that stages a reviewer's flawed policies (testdata/check/policies: the
// frontend no longer admitted by the api, no DNS for the frontend). The
// aggregator's live would-deny record is exactly what check reports
// offline on a baseline learned from the same flows, and it survives a
// restart unchanged: stored with the baseline, not counted again. If it
// failed, a staged policy could be promoted on a record that is not what
// enforcing it would do. The same holds with the baseline in a file and
// in ClickHouse (the record is an attachment of its commits there).
func TestStagedEqualsCheck(t *testing.T) {
	srv := startClickHouse(t, 1)
	for _, tc := range []struct{ name, store string }{
		{"baseline file", ""},
		{"ClickHouse", "clickhouse://" + srv[0].Addr() + "/staged?cluster=example"},
	} {
		t.Run(tc.name, func(t *testing.T) { stagedEqualsCheck(t, tc.store) })
	}
}

// stagedEqualsCheck runs TestStagedEqualsCheck with the aggregator's
// baseline in store, a file of its own when empty.
func stagedEqualsCheck(t *testing.T, store string) {
	dir := t.TempDir()
	policies := repoFile("testdata", "check", "policies")
	agg := newAggregatorProc(t, dir)
	if store != "" {
		agg.args[slices.Index(agg.args, "--db")+1] = store
	}
	agg.args = append(agg.args, "--staged", policies)
	staged := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	now := staged
	stop := runAggregator(t, agg, func() time.Time { return now })
	files := splitByObserver(t, dir)
	for i, f := range files {
		mustRun(t, "agent", "--server", agg.url(), "--token-file", agg.token, "--from", f,
			"--spool", filepath.Join(dir, "spool"+string(rune('a'+i))), "--node", "node-"+string(rune('a'+i)))
	}
	learned := filepath.Join(dir, "learned.db")
	for _, f := range files {
		mustRun(t, "learn", "--from", f, "--inventory", repoFile("testdata", "example", "cluster.yaml"), "--db", learned)
	}
	r := run(t, "", "check", "--db", learned, "--until", "2026-11-22T12:00:00Z", "--window", "24h", "--policies", policies, "--format", "json")
	want := checkJSON(t, r.out)
	if r.code != 1 || len(want) == 0 {
		t.Fatalf("check: exit %d with %d denied flows; the staged set is meant to be flawed\n%s", r.code, len(want), r.err)
	}
	got := readStaged(t, agg)
	if !reflect.DeepEqual(got.Flows, want) {
		t.Errorf("the live would-deny flows differ from check's:\n got %+v\nwant %+v", got.Flows, want)
	}
	if agg.metric(t, "flowpol_staged_would_deny_total") == 0 {
		t.Error("flowpol_staged_would_deny_total stayed 0")
	}
	for _, p := range got.Policies {
		if p.Policy == "shop/flowpol-deployment-api" && (p.WouldDeny == 0 || !p.CleanSince.Equal(staged)) {
			t.Errorf("the api's policy: %+v; want would-denies, found at the staging clock", p)
		}
	}

	// Restarted a day later: the same record, and a day more of clean.
	stop()
	now = staged.Add(24 * time.Hour)
	runAggregator(t, agg, func() time.Time { return now })
	again := readStaged(t, agg)
	if !reflect.DeepEqual(again.Flows, want) || !reflect.DeepEqual(stripClean(again.Policies), stripClean(got.Policies)) {
		t.Errorf("after a restart the record changed:\n got %+v\nwant %+v", again, got)
	}
	for _, p := range again.Policies {
		if p.CleanSeconds < 24*3600 {
			t.Errorf("%s clean for %vs after a day without flows, want a day at least", p.Policy, p.CleanSeconds)
		}
	}
	if v := agg.metric(t, "flowpol_staged_clean_seconds"); v < float64(len(again.Policies))*24*3600 {
		t.Errorf("flowpol_staged_clean_seconds adds up to %v, want a day for each of %d policies", v, len(again.Policies))
	}
	out := run(t, "", "staged", "--server", agg.url(), "--token-file", agg.token)
	if out.code != 1 || !strings.Contains(out.out, "shop/Deployment/frontend -> shop/Deployment/api 8080/TCP") {
		t.Errorf("staged: exit %d, want 1 and the denied flow listed:\n%s%s", out.code, out.out, out.err)
	}
	if r := run(t, "", "staged", "--server", agg.url()); r.code != 2 || !strings.Contains(r.err, "401") {
		t.Errorf("staged without a token: exit %d, %s; want 2 and 401", r.code, r.err)
	}
	plain := newAggregatorProc(t, t.TempDir())
	runAggregator(t, plain, nil)
	if r := run(t, "", "staged", "--server", plain.url(), "--token-file", plain.token); r.code != 2 || !strings.Contains(r.err, "nothing is staged") {
		t.Errorf("staged from an aggregator that stages nothing: exit %d, %s; want 2 and why", r.code, r.err)
	}
	topo := mustRun(t, "topology", "--server", agg.url(), "--token-file", agg.token, "--until", "2026-11-22T12:00:00Z", "--staged", "--format", "dot").out
	if !strings.Contains(topo, "red") {
		t.Errorf("topology --staged drew nothing red:\n%s", topo)
	}
}

func stripClean(ps []wire.StagedPolicy) []wire.StagedPolicy {
	out := make([]wire.StagedPolicy, len(ps))
	for i, p := range ps {
		p.CleanSeconds = 0
		out[i] = p
	}
	return out
}
