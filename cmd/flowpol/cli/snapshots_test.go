package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// snapshot is an inventory of two bare pods: client, and the server pod
// name holding 10.244.1.20 since started.
func snapshot(name, started string) string {
	return `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {namespace: shop, name: client, uid: u-client, labels: {app: client}}
  status: {phase: Running, podIP: 10.244.1.10, startTime: "2026-11-22T08:00:00Z"}
- apiVersion: v1
  kind: Pod
  metadata: {namespace: shop, name: ` + name + `, uid: u-` + name + `, labels: {app: server}}
  status: {phase: Running, podIP: 10.244.1.20, startTime: "` + started + `"}
`
}

func writeSnapshot(t *testing.T, dir, file, text string, at time.Time) string {
	t.Helper()
	path := filepath.Join(dir, file)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, at, at); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLearnInventorySnapshots: with two snapshots, the pod replaced
// between them (same address, started at 10:30) is attributed by time:
// the 10:10 connection to the old pod, the 10:50 one to its successor;
// with the newer snapshot alone both go to the successor. A snapshot
// that does not parse is named in the error. If it failed, a pod
// replaced during learning would take its predecessor's traffic.
func TestLearnInventorySnapshots(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	older := writeSnapshot(t, dir, "a.yaml", snapshot("old", "2026-11-22T09:00:00Z"), t0)
	newer := writeSnapshot(t, dir, "b.yaml", snapshot("new", "2026-11-22T10:30:00Z"), t0.Add(time.Hour))
	flows := writeLines(t, []string{
		`{"time":"2026-11-22T10:10:00Z","proto":"TCP","src_ip":"10.244.1.10","src_port":40000,"dst_ip":"10.244.1.20","dst_port":8080,"observer":"client","count":3}`,
		`{"time":"2026-11-22T10:50:00Z","proto":"TCP","src_ip":"10.244.1.10","src_port":40001,"dst_ip":"10.244.1.20","dst_port":8080,"observer":"client","count":5}`,
	})
	for _, tc := range []struct {
		name      string
		inventory []string
		want      []string
		not       string
	}{
		{"two snapshots, repeated", []string{"--inventory", newer, "--inventory", older},
			[]string{"shop/Pod/client egress shop/Pod/new 8080/TCP 5", "shop/Pod/client egress shop/Pod/old 8080/TCP 3"}, ""},
		{"two snapshots, comma-separated", []string{"--inventory", older + "," + newer},
			[]string{"shop/Pod/client egress shop/Pod/new 8080/TCP 5", "shop/Pod/client egress shop/Pod/old 8080/TCP 3"}, ""},
		{"the newer alone", []string{"--inventory", newer},
			[]string{"shop/Pod/client egress shop/Pod/new 8080/TCP 8"}, "shop/Pod/old"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "f.db")
			mustRun(t, append([]string{"learn", "--from", flows, "--db", db}, tc.inventory...)...)
			out := strings.Join(strings.Fields(strings.ReplaceAll(mustRun(t, "topology", "--db", db, "--until", "2026-11-22T12:00:00Z").out, "\n", " | ")), " ")
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("topology lacks %q:\n%s", w, out)
				}
			}
			if tc.not != "" && strings.Contains(out, tc.not) {
				t.Errorf("topology has %q:\n%s", tc.not, out)
			}
		})
	}
	bad := writeSnapshot(t, dir, "bad.yaml", "apiVersion: v1\nkind: List\nitems: [\n", t0)
	r := run(t, "", "learn", "--from", flows, "--db", filepath.Join(dir, "x.db"), "--inventory", newer+","+bad)
	if r.code == 0 || !strings.Contains(r.err, bad) {
		t.Errorf("a broken snapshot: exit %d, error %q; want it named", r.code, r.err)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.db")); err == nil {
		t.Error("a broken snapshot left a baseline file behind")
	}
	// enforce binds rules to the cluster as it is: one inventory.
	r = run(t, "", "enforce", "--mode", "audit", "--policies", repoFile("testdata", "check", "policies"), "--inventory", older+","+newer)
	if r.code == 0 || !strings.Contains(r.err, "--inventory: 2 files; this command reads one") {
		t.Errorf("enforce with two snapshots: exit %d, error %q", r.code, r.err)
	}
}
