package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestFlagsRefuseNonsense fails if a duration or count that makes no sense
// for its flag is taken: a zero bucket used to become the default bucket,
// and a zero or negative lock timeout waited for the lock forever.
func TestFlagsRefuseNonsense(t *testing.T) {
	db := filepath.Join(t.TempDir(), "flowpol.db")
	learn := []string{"learn", "--from", "-", "--inventory", repoFile("testdata", "example", "cluster.yaml"), "--db", db}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"zero bucket", append(learn, "--bucket", "0s"), `invalid argument "0s" for "--bucket" flag: must be positive`},
		{"negative bucket", append(learn, "--bucket", "-1m"), `invalid argument "-1m" for "--bucket" flag: must be positive`},
		{"negative lock timeout", append(learn, "--lock-timeout", "-1s"), `invalid argument "-1s" for "--lock-timeout" flag: must be positive`},
		{"zero lock timeout", []string{"generate", "--db", db, "--lock-timeout", "0"}, `invalid argument "0" for "--lock-timeout" flag: must be positive`},
		{"negative max wait", append(learn, "--max-wait", "-1s"), `invalid argument "-1s" for "--max-wait" flag: must not be negative`},
		{"zero batch", append(learn, "--batch-records", "0"), `invalid argument "0" for "--batch-records" flag: must be positive`},
		{"batch not a number", append(learn, "--batch-records", "many"), `invalid argument "many" for "--batch-records" flag: not an integer`},
		{"zero window", []string{"generate", "--db", db, "--window", "0d"}, `invalid argument "0d" for "--window" flag: must be positive`},
		{"negative min pods", []string{"generate", "--db", db, "--min-pods", "-2"}, `invalid argument "-2" for "--min-pods" flag: must not be negative`},
		{"zero flush", []string{"capture", "--flush", "0s"}, `invalid argument "0s" for "--flush" flag: must be positive`},
		{"negative capture duration", []string{"capture", "--duration", "-5s"}, `invalid argument "-5s" for "--duration" flag: must not be negative`},
		{"zero map size", []string{"capture", "--map-size", "0"}, `invalid argument "0" for "--map-size" flag: must be positive`},
		{"zero sync timeout", append(learn, "--sync-timeout", "0s"), `invalid argument "0s" for "--sync-timeout" flag: must be positive`},
		{"aggregator zero bucket", []string{"aggregator", "--bucket", "0s"}, `invalid argument "0s" for "--bucket" flag: must be positive`},
		{"aggregator zero batch bytes", []string{"aggregator", "--max-batch-bytes", "0"}, `invalid argument "0" for "--max-batch-bytes" flag: must be positive`},
		{"agent zero spool", []string{"agent", "--spool-max-bytes", "-1"}, `invalid argument "-1" for "--spool-max-bytes" flag: must be positive`},
		{"agent zero backoff", []string{"agent", "--min-backoff", "0s"}, `invalid argument "0s" for "--min-backoff" flag: must be positive`},
		{"enforce zero refresh", []string{"enforce", "--refresh", "0s"}, `invalid argument "0s" for "--refresh" flag: must be positive`},
		{"bad unit", []string{"generate", "--db", db, "--window", "7y"}, `invalid argument "7y" for "--window" flag`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", tt.args...)
			if r.code == 0 || !strings.Contains(r.err, tt.want) {
				t.Fatalf("exit %d, stderr %q; want an error with %q", r.code, r.err, tt.want)
			}
		})
	}
}

// TestWindowInDays fails if a duration flag does not read days and weeks:
// --window 7d must be seven days, which reaches the edge last seen eight
// hours before --until that a 3h window leaves out.
func TestWindowInDays(t *testing.T) {
	db := learnScenario(t, "example", "--bucket", "1m", "--lock-timeout", "2s")
	for _, window := range []string{"7d", "1w", "1d12h"} {
		t.Run(window, func(t *testing.T) {
			out := mustRun(t, "generate", "--db", db, "--until", "2026-11-22T12:00:00Z", "--window", window).out
			if !strings.Contains(out, "name: flowpol-deployment-legacy-session") {
				t.Errorf("--window %s left out the edge seen 8 hours before the end", window)
			}
		})
	}
	out := mustRun(t, "generate", "--db", db, "--until", "2026-11-22T12:00:00Z", "--window", "7d").out
	if !strings.Contains(out, "flowpol.io/window: 2026-11-15T12:00:00Z/") || !strings.Contains(out, "/2026-11-22T12:00:00Z") {
		t.Errorf("--window 7d is not the seven days before --until:\n%.600s", out)
	}
}

// TestEmptyBaseline fails if an empty --db file gives anything but an error
// that names it as empty (it was "write F: bad file descriptor").
func TestEmptyBaseline(t *testing.T) {
	db := filepath.Join(t.TempDir(), "empty.db")
	writeFile(t, db, "")
	for _, cmd := range []string{"generate", "topology", "check"} {
		t.Run(cmd, func(t *testing.T) {
			args := []string{cmd, "--db", db}
			if cmd == "check" {
				args = append(args, "--policies", t.TempDir())
			}
			r := run(t, "", args...)
			want := db + ": an empty file, not a baseline"
			if r.code == 0 || !strings.Contains(r.err, want) || strings.Contains(r.err, "bad file descriptor") {
				t.Fatalf("exit %d, stderr %q; want an error with %q", r.code, r.err, want)
			}
		})
	}
}

// TestInventoryEndless fails if an inventory that never ends is read on
// instead of refused, fast, with an error naming the file.
func TestInventoryEndless(t *testing.T) {
	db := filepath.Join(t.TempDir(), "flowpol.db")
	r := run(t, "", "learn", "--from", "-", "--inventory", "/dev/zero", "--db", db)
	if r.code == 0 || !strings.Contains(r.err, "/dev/zero:1: object too large") {
		t.Fatalf("exit %d, stderr %q; want an error naming /dev/zero", r.code, r.err)
	}
	big := filepath.Join(t.TempDir(), "cluster.yaml")
	writeFile(t, big, strings.Repeat("# a comment\n", 100))
	r = run(t, "", "learn", "--from", "-", "--inventory", big, "--db", db, "--max-inventory-bytes", "500")
	if r.code == 0 || !strings.Contains(r.err, big+":42: inventory too large: more than 500 bytes") {
		t.Fatalf("exit %d, stderr %q; want the file refused at line 42", r.code, r.err)
	}
}

// TestLearnWarnsEmptyInventory fails if learning with an inventory of no
// pods, where every pod becomes external, says nothing.
func TestLearnWarnsEmptyInventory(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "cluster.yaml")
	writeFile(t, inv, "apiVersion: v1\nkind: List\nitems: []\n")
	r := run(t, "", "learn", "--from", "-", "--inventory", inv, "--db", filepath.Join(dir, "f.db"))
	if !strings.Contains(r.err, "warning: the inventory has no pods") {
		t.Fatalf("exit %d, stderr %q; want a warning about no pods", r.code, r.err)
	}
}

// TestGenerateWarnsUnknownNamespace fails if --namespace that matches no
// workload yields an empty result in silence.
func TestGenerateWarnsUnknownNamespace(t *testing.T) {
	db := learnScenario(t, "example")
	r := mustRun(t, "generate", "--db", db, "--until", "2026-11-22T12:00:00Z", "--namespace", "shpo")
	if !strings.Contains(r.err, "warning: --namespace shpo: no workload in it was seen in the window") {
		t.Fatalf("stderr %q; want a warning about --namespace shpo", r.err)
	}
	r = mustRun(t, "generate", "--db", db, "--until", "2026-11-22T12:00:00Z", "--namespace", "shop")
	if strings.Contains(r.err, "--namespace") {
		t.Errorf("a namespace with workloads warned: %q", r.err)
	}
}
