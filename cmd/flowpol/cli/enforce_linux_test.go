//go:build linux

package cli_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flowpol/flowpol/internal/kubeenv"
	"github.com/flowpol/flowpol/internal/testpods"
)

// enforceCluster is a web pod allowed to reach a db pod on 5432, and a
// stray pod that is not.
type enforceCluster struct {
	cl                  *testpods.Cluster
	web, db, stray      *testpods.Pod
	inventory, policies string
}

func newEnforceCluster(t *testing.T) *enforceCluster {
	c := &enforceCluster{cl: testpods.New(t, "/sys/fs/cgroup/unified")}
	c.web = c.cl.AddPod("web", testpods.NewUID(), netip.MustParsePrefix("10.199.9.1/24"))
	c.db = c.cl.AddPod("db", testpods.NewUID(), netip.MustParsePrefix("10.199.9.2/24"))
	c.stray = c.cl.AddPod("stray", testpods.NewUID(), netip.MustParsePrefix("10.199.9.3/24"))
	c.db.StartServer(t, "tcp-serve", "10.199.9.2:5432")
	dir := t.TempDir()
	c.inventory = filepath.Join(dir, "cluster.yaml")
	writeFile(t, c.inventory, `apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: app}}
- {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: app, labels: {app: web}}, spec: {containers: [{name: c, image: web}]}, status: {phase: Running, podIP: 10.199.9.1}}
- {apiVersion: v1, kind: Pod, metadata: {name: db, namespace: app, labels: {app: db}}, spec: {containers: [{name: c, image: db, ports: [{name: pg, containerPort: 5432}]}]}, status: {phase: Running, podIP: 10.199.9.2}}
- {apiVersion: v1, kind: Pod, metadata: {name: stray, namespace: app, labels: {app: stray}}, spec: {containers: [{name: c, image: stray}]}, status: {phase: Running, podIP: 10.199.9.3}}
`)
	c.policies = filepath.Join(dir, "policies")
	if err := os.Mkdir(c.policies, 0o755); err != nil {
		t.Fatal(err)
	}
	c.allow(t, "app: web", "pg")
	return c
}

// allow writes db's policy: ingress on a port from the pods the selector's
// labels match.
func (c *enforceCluster) allow(t *testing.T, labels, port string) {
	writeFile(t, filepath.Join(c.policies, "db.yaml"), fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: app}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {%s}}}]
    ports: [{port: %s}]
`, labels, port))
}

func (c *enforceCluster) reaches(t *testing.T, p *testpods.Pod) bool {
	out := p.RunClientOutput(t, "probe", "tcp:10.199.9.2:5432")
	return strings.HasSuffix(strings.TrimSpace(out), " ok")
}

// enforcer is a running flowpol enforce and what it wrote.
type enforcer struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr strings.Builder
}

func (c *enforceCluster) start(t *testing.T, args ...string) *enforcer {
	t.Helper()
	return c.startWith(t, []string{"--inventory", c.inventory}, args...)
}

// startWith starts enforce with the cluster state from the flags given.
func (c *enforceCluster) startWith(t *testing.T, cluster []string, extra ...string) *enforcer {
	t.Helper()
	args := append(append([]string{"enforce", "--policies", c.policies, "--netns", c.cl.Node()}, cluster...),
		"--iface", strings.Join([]string{c.web.HostIface, c.db.HostIface, c.stray.HostIface}, ","))
	args = append(args, extra...)
	e := &enforcer{cmd: exec.Command(os.Args[0], args...)}
	e.cmd.Env = append(os.Environ(), "FLOWPOL_TEST_MAIN=1")
	stdout, err := e.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := e.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.cmd.Process.Kill(); e.cmd.Wait() })
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			e.mu.Lock()
			e.stderr.WriteString(sc.Text() + "\n")
			e.mu.Unlock()
		}
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if !strings.HasPrefix(line, "ready: ") {
		e.cmd.Wait()
		t.Fatalf("enforce did not get ready: %q %v\n%s", line, err, e.log())
	}
	return e
}

func (e *enforcer) log() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stderr.String()
}

// waitLog waits up to 5 s for the log to hold s.
func (e *enforcer) waitLog(t *testing.T, s string) {
	t.Helper()
	for range 100 {
		if strings.Contains(e.log(), s) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("enforce never logged %q:\n%s", s, e.log())
}

func (e *enforcer) stop(t *testing.T) {
	t.Helper()
	e.cmd.Process.Signal(syscall.SIGTERM)
	if err := e.cmd.Wait(); err != nil {
		t.Fatalf("enforce on SIGTERM: %v\n%s", err, e.log())
	}
}

// Enforce mode drops what the policies do not allow and logs it; SIGHUP
// puts edited policies in force; on exit the programs are detached.
func TestEnforceCommand(t *testing.T) {
	testpods.RequireRoot(t)
	c := newEnforceCluster(t)
	e := c.start(t, "--mode", "enforce")
	if !c.reaches(t, c.web) {
		t.Errorf("web cannot reach db: the policy allows it\n%s", e.log())
	}
	if c.reaches(t, c.stray) {
		t.Error("stray reached db: the policy does not allow it")
	}
	e.waitLog(t, "deny ingress to app/db: app/stray(10.199.9.3:")
	e.waitLog(t, "(isolated by app/db, no rule allows it)")

	c.allow(t, "app: stray", "pg")
	e.cmd.Process.Signal(syscall.SIGHUP)
	e.waitLog(t, "rules updated: ")
	if !c.reaches(t, c.stray) || c.reaches(t, c.web) {
		t.Errorf("after the edit and SIGHUP, stray should reach db and web not\n%s", e.log())
	}
	e.stop(t)
	if !c.reaches(t, c.web) {
		t.Error("web still blocked after enforce exited: the programs stayed attached")
	}
}

// Audit mode drops nothing, logs what enforce mode would drop, and counts
// each verdict per policy and rule in its metrics.
func TestEnforceAudit(t *testing.T) {
	testpods.RequireRoot(t)
	c := newEnforceCluster(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	e := c.start(t, "--mode", "audit", "--metrics-addr", addr)
	if !c.reaches(t, c.stray) || !c.reaches(t, c.web) {
		t.Error("audit mode dropped a connection")
	}
	e.waitLog(t, "audit deny ingress to app/db: app/stray(10.199.9.3:")
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`flowpol_enforce_verdicts_total{audit="true",direction="Ingress",policy="app/db",rule="0",verdict="deny"} 1`,
		`flowpol_enforce_verdicts_total{audit="true",direction="Ingress",policy="app/db",rule="1",verdict="allow"} 1`,
		"flowpol_enforce_audited_packets_total ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	e.stop(t)
}

// With --pin the programs outlive the process, killed or not, until
// --unpin removes them.
func TestEnforcePin(t *testing.T) {
	testpods.RequireRoot(t)
	c := newEnforceCluster(t)
	bpffs := t.TempDir()
	if out, err := exec.Command("mount", "-t", "bpf", "bpf", bpffs).CombinedOutput(); err != nil {
		t.Fatalf("mount bpffs: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", bpffs).Run() })
	pin := filepath.Join(bpffs, "flowpol")
	e := c.start(t, "--mode", "enforce", "--pin", pin)
	e.cmd.Process.Kill()
	e.cmd.Wait()
	if c.reaches(t, c.stray) {
		t.Fatal("killed with --pin, yet enforcement stopped")
	}
	e = c.start(t, "--mode", "enforce", "--pin", pin) // replaces the pinned programs
	e.stop(t)
	if c.reaches(t, c.stray) {
		t.Fatal("enforcement stopped when a pinning enforce exited")
	}
	mustRun(t, "enforce", "--unpin", "--pin", pin)
	if !c.reaches(t, c.stray) {
		t.Fatal("--unpin left the programs attached")
	}
	if entries, _ := os.ReadDir(pin); len(entries) != 0 {
		t.Errorf("pins left after --unpin: %v", entries)
	}
}

// With --kubeconfig, pods appearing in the API server are put in force: web
// is denied while the cluster does not know its address, and allowed once
// its pod is there.
func TestEnforceFollowsLivePods(t *testing.T) {
	testpods.RequireRoot(t)
	c := newEnforceCluster(t)
	c.allow(t, "app: web", "5432") // the API's pods declare no named ports
	env := kubeenv.Start(t)
	cs := env.Client()
	liveBase(t, cs)
	livePod(t, cs, "db", "10.199.9.2")
	e := c.startWith(t, []string{"--kubeconfig", env.Kubeconfig, "--refresh", "200ms"}, "--mode", "enforce")
	if c.reaches(t, c.web) {
		t.Fatal("web reached db before the cluster knew its pod")
	}
	livePod(t, cs, "web", "10.199.9.1")
	e.waitLog(t, "rules updated: ")
	for i := 0; !c.reaches(t, c.web); i++ { // the pod's address may come in a second update
		if i == 10 {
			t.Fatalf("web cannot reach db once its pod is known\n%s", e.log())
		}
	}
	e.stop(t)
}
