//go:build linux

package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/flowpol/flowpol/cmd/flowpol/cli"
	"github.com/flowpol/flowpol/internal/testpods"
)

// liveInventory describes the test's two pods: a Deployment's and a
// StatefulSet's.
func liveInventory(web, db *testpods.Pod) string {
	return fmt.Sprintf(`apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: app, labels: {kubernetes.io/metadata.name: app}}}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web, namespace: app}
  spec: {selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, image: web}]}}}
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-5d9c8b7f6-abcde
    namespace: app
    uid: %s
    labels: {app: web, pod-template-hash: 5d9c8b7f6}
    ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d9c8b7f6, uid: 00000000-0000-4000-8000-0000000000a1, controller: true}]
  spec: {containers: [{name: c, image: web}]}
  status: {phase: Running, podIP: 10.199.8.1}
- apiVersion: apps/v1
  kind: StatefulSet
  metadata: {name: db, namespace: app}
  spec: {selector: {matchLabels: {app: db}}, template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c, image: db}]}}}
- apiVersion: v1
  kind: Pod
  metadata:
    name: db-0
    namespace: app
    uid: %s
    labels: {app: db, statefulset.kubernetes.io/pod-name: db-0}
    ownerReferences: [{apiVersion: apps/v1, kind: StatefulSet, name: db, uid: 00000000-0000-4000-8000-0000000000b1, controller: true}]
  spec: {containers: [{name: c, image: db, ports: [{name: pg, containerPort: 5432}]}]}
  status: {phase: Running, podIP: 10.199.8.2}
`, web.UID, db.UID)
}

// A live learn captures for its window, stores what it saw, and generate
// turns it into policies.
func TestLearnLive(t *testing.T) {
	testpods.RequireRoot(t)
	cl := testpods.New(t, "/sys/fs/cgroup/unified")
	web := cl.AddPod("web", testpods.NewUID(), netip.MustParsePrefix("10.199.8.1/24"))
	db := cl.AddPod("db", testpods.NewUID(), netip.MustParsePrefix("10.199.8.2/24"))
	db.StartServer(t, "tcp-serve", "10.199.8.2:5432")
	dir := t.TempDir()
	inv := filepath.Join(dir, "cluster.yaml")
	if err := os.WriteFile(inv, []byte(liveInventory(web, db)), 0o644); err != nil {
		t.Fatal(err)
	}
	dbFile := filepath.Join(dir, "flowpol.db")
	stderr := newWatchWriter("capture attached")
	done := make(chan result, 1)
	go func() {
		var out bytes.Buffer
		code := cli.Run(context.Background(), []string{"learn", "--window", "3s", "--flush", "200ms", "--inventory", inv, "--db", dbFile, "--node", "node-1"},
			cli.Streams{In: strings.NewReader(""), Out: &out, Err: stderr})
		done <- result{code: code, out: out.String(), err: stderr.String()}
	}()
	select {
	case <-stderr.seen:
	case r := <-done:
		t.Fatalf("learn ended before it attached: exit %d\n%s", r.code, r.err)
	}
	web.RunClient(t, "tcp-connect", "10.199.8.2:5432", "20")
	web.RunClient(t, "tcp-refused", "10.199.8.2:6000")
	r := <-done
	if r.code != 0 {
		t.Fatalf("learn: exit %d\n%s", r.code, r.err)
	}
	for _, want := range []string{"capture: [tcp: ", " 0 lost"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.out)
		}
	}
	out := mustRun(t, "generate", "--db", dbFile).out
	for _, want := range []string{
		"egress to app/StatefulSet/db on 5432/TCP: 20 connections",
		"ingress from app/Deployment/web on 5432/TCP: 20 connections",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("policies lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "6000") {
		t.Errorf("a refused connection became a rule:\n%s", out)
	}
}

// Without the capabilities capture needs, the error names the one missing.
func TestCaptureNeedsCapabilities(t *testing.T) {
	testpods.RequireRoot(t)
	dir, err := os.MkdirTemp("", "flowpol-caps-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "flowpol")
	copyFile(t, os.Args[0], bin)
	cmd := exec.Command(bin, "capture", "--duration", "1s")
	cmd.Env = append(os.Environ(), "FLOWPOL_TEST_MAIN=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "lacks CAP_BPF") {
		t.Fatalf("capture as nobody: %v\n%s\nwant an error naming CAP_BPF", err, out)
	}
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}
