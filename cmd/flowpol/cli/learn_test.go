package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/baseline/boltdb"
)

func exampleFlows(t testing.TB) []string {
	t.Helper()
	data, err := os.ReadFile(repoFile("testdata", "example", "flows.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func writeLines(t testing.TB, lines []string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "flows.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLearnSummary(t *testing.T) {
	db := filepath.Join(t.TempDir(), "f.db")
	inv := repoFile("testdata", "example", "cluster.yaml")
	r := mustRun(t, "learn", "--from", repoFile("testdata", "example", "flows.jsonl"), "--inventory", inv, "--db", db)
	for _, want := range []string{
		"learned 23 records (1221 connections)",
		"edges: 12 seen, 12 new; " + db + " holds 12",
		"inventory: 40 objects, skipped 1 ConfigMap",
		"unresolved ends: 1 no pod or service has this cluster address",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.out)
		}
	}
	// Learning from standard input adds to the same file.
	data, err := os.ReadFile(repoFile("testdata", "example", "flows.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	r = run(t, string(data), "learn", "--from", "-", "--inventory", inv, "--db", db)
	if r.code != 0 || !strings.Contains(r.out, "edges: 12 seen, 0 new; "+db+" holds 12") {
		t.Fatalf("second learn: exit %d\n%s%s", r.code, r.out, r.err)
	}
	out := mustRun(t, "generate", "--db", db, "--until", "2026-11-22T12:00:00Z").out
	if !strings.Contains(out, "ingress from shop/Deployment/frontend on 8080/TCP: 460 connections") {
		t.Errorf("counts were not added up over two runs:\n%s", out)
	}
}

// A malformed line stops learning; the file keeps exactly the whole batches
// committed before it.
func TestLearnMalformedKeepsWholeBatches(t *testing.T) {
	lines := exampleFlows(t)
	bad := append(append(append([]string{}, lines[:6]...), `{"time":"2026-11-22T10:00:00Z","proto":"TCP","src_ip":"10.0.0.1","dst_ip":"10.0.0.2","dst_port":"http","observer":"client"}`), lines[6:]...)
	inv := repoFile("testdata", "example", "cluster.yaml")
	dir := t.TempDir()
	db := filepath.Join(dir, "bad.db")
	flows := writeLines(t, bad)
	r := run(t, "", "learn", "--from", flows, "--inventory", inv, "--db", db, "--batch-records", "4")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	for _, want := range []string{flows + `:7: field "dst_port": not a non-negative integer`, "keeps the 4 records through line 4 (1 whole batches); nothing after line 4 was stored"} {
		if !strings.Contains(r.err, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.err)
		}
	}
	want := filepath.Join(dir, "want.db")
	mustRun(t, "learn", "--from", writeLines(t, lines[:4]), "--inventory", inv, "--db", want)
	args := []string{"--until", "2026-11-22T12:00:00Z", "--window", "24h"}
	got := mustRun(t, append([]string{"generate", "--db", db}, args...)...).out
	if exp := mustRun(t, append([]string{"generate", "--db", want}, args...)...).out; got != exp {
		t.Errorf("the baseline holds more or less than the first batch:\n%s", firstDiff(exp, got))
	}
	runs := readRuns(t, db)
	if len(runs) != 1 || !strings.Contains(runs[0].Error, ":7:") || runs[0].Stored != 4 {
		t.Errorf("run record %+v, want one failed run that stored 4 records", runs)
	}
}

func readRuns(t testing.TB, db string) []baseline.Run {
	t.Helper()
	s, err := boltdb.Open(db, boltdb.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.Runs
}

func TestLearnLockedDB(t *testing.T) {
	db := filepath.Join(t.TempDir(), "f.db")
	s, err := boltdb.Open(db, boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	r := run(t, "", "learn", "--from", repoFile("testdata", "example", "flows.jsonl"),
		"--inventory", repoFile("testdata", "example", "cluster.yaml"), "--db", db, "--lock-timeout", "300ms")
	if r.code != 1 || !strings.Contains(r.err, "open "+db+": baseline is locked by another process (waited 300ms)") {
		t.Fatalf("exit %d, stderr %q; want a lock error", r.code, r.err)
	}
	if waited := time.Since(start); waited > time.Minute {
		t.Errorf("a locked file hung learn for %v", waited)
	}
	r = run(t, "", "generate", "--db", db, "--lock-timeout", "300ms")
	if r.code != 1 || !strings.Contains(r.err, "baseline is locked by another process") {
		t.Fatalf("generate: exit %d, stderr %q; want a lock error", r.code, r.err)
	}
}

func TestLearnErrors(t *testing.T) {
	dir := t.TempDir()
	badInv := filepath.Join(dir, "cluster.yaml")
	if err := os.WriteFile(badInv, []byte("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p, namespace: x}\n  status: {podIP: 10.0.0.300}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	notDB := filepath.Join(dir, "not.db")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("x", 8192)), 0o644); err != nil {
		t.Fatal(err)
	}
	flows := repoFile("testdata", "example", "flows.jsonl")
	inv := repoFile("testdata", "example", "cluster.yaml")
	db := filepath.Join(dir, "f.db")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"neither --from nor --window", []string{"learn", "--inventory", inv}, "at least one of the flags in the group [from window] is required"},
		{"both --from and --window", []string{"learn", "--inventory", inv, "--from", flows, "--window", "1h"}, "if any flags in the group [from window] are set none of the others can be"},
		{"no --inventory or --kubeconfig", []string{"learn", "--from", flows}, "say where the cluster's state is: --inventory FILE or --kubeconfig FILE"},
		{"missing flows", []string{"learn", "--from", filepath.Join(dir, "none.jsonl"), "--inventory", inv, "--db", db}, "none.jsonl: no such file"},
		{"bad inventory", []string{"learn", "--from", flows, "--inventory", badInv, "--db", db}, badInv + ":"},
		{"not a baseline", []string{"learn", "--from", flows, "--inventory", inv, "--db", notDB}, "open " + notDB},
		{"bad cidr", []string{"learn", "--from", flows, "--inventory", inv, "--db", db, "--cluster-cidr", "10.0.0.0/33"}, `--cluster-cidr "10.0.0.0/33"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", tt.args...)
			if r.code != 1 || !strings.Contains(r.err, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit 1 and %q", r.code, r.err, tt.want)
			}
		})
	}
	if _, err := os.Stat(db); err == nil {
		t.Errorf("a failed learn left %s behind", db)
	}
}

// --retain sets a new file's tiers, --bucket its finest width with the
// default tiers after it; together they are refused, as is a retention
// that cannot be kept, before anything is stored.
func TestLearnRetain(t *testing.T) {
	flows, inv := repoFile("testdata", "example", "flows.jsonl"), repoFile("testdata", "example", "cluster.yaml")
	tests := []struct {
		name  string
		args  []string
		tiers string // the new file's, as status gives them; empty: refused
		err   string
	}{
		{"default", nil, `"bucket":"1m","keep":"48h"`, ""},
		{"retain", []string{"--retain", "1m:1d,1h:4w"}, `"bucket":"1h","keep":"28d"`, ""},
		{"all", []string{"--retain", "all"}, `"bucket":"1m","keep":"all"`, ""},
		{"bucket", []string{"--bucket", "5m"}, `"bucket":"5m","keep":"48h"`, ""},
		{"both", []string{"--retain", "all", "--bucket", "5m"}, "", "none of the others can be"},
		{"bad retain", []string{"--retain", "1h:1d,1m:2d"}, "", "--retain: retention"},
		{"bad bucket", []string{"--bucket", "7m"}, "", "--bucket 7m with the default tiers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "f.db")
			r := run(t, "", append([]string{"learn", "--from", flows, "--inventory", inv, "--db", db}, tt.args...)...)
			if tt.tiers == "" {
				if _, err := os.Stat(db); r.code == 0 || !strings.Contains(r.err, tt.err) || err == nil {
					t.Fatalf("exit %d, stderr %q, file made: %v; want %q and no file", r.code, r.err, err == nil, tt.err)
				}
				return
			}
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.err)
			}
			out := mustRun(t, "status", "--db", db, "--format", "json").out
			if !strings.Contains(strings.Join(strings.Fields(out), ""), tt.tiers) {
				t.Errorf("status lacks %s:\n%s", tt.tiers, out)
			}
		})
	}
}
