package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowpol/flowpol/cmd/flowpol/cli"
)

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// aggregatorProc is an aggregator's command line and where it listens.
type aggregatorProc struct {
	api, health, token, db string
	args                   []string
	// cgroup, when set, is a cgroup v1 directory the process starts in;
	// env is added to its environment.
	cgroup string
	env    []string
}

func newAggregatorProc(t testing.TB, dir string) *aggregatorProc {
	t.Helper()
	p := &aggregatorProc{api: freeAddr(t), health: freeAddr(t), token: filepath.Join(dir, "token"), db: filepath.Join(dir, "agg.db")}
	writeFile(t, p.token, "t0ken-for-agents\n")
	p.args = []string{"aggregator", "--listen", p.api, "--health-listen", p.health, "--db", p.db,
		"--inventory", repoFile("testdata", "example", "cluster.yaml"), "--token-file", p.token}
	return p
}

func (p *aggregatorProc) url() string { return "http://" + p.api }

// start runs the aggregator as a process, logging to a file, and waits
// until it is ready.
func (p *aggregatorProc) start(t testing.TB, log string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], p.args...)
	if p.cgroup != "" { // the shell moves itself into the cgroup, then runs the aggregator there
		cmd = exec.Command("/bin/sh", append([]string{"-c", `echo $$ >"$0/cgroup.procs" && exec "$@"`, p.cgroup, os.Args[0]}, p.args...)...)
	}
	cmd.Env = append(append(os.Environ(), "FLOWPOL_TEST_MAIN=1"), p.env...)
	f, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	p.waitReady(t, log)
	return cmd
}

func (p *aggregatorProc) waitReady(t testing.TB, log string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		if resp, err := http.Get("http://" + p.health + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	out, _ := os.ReadFile(log)
	t.Fatalf("the aggregator did not become ready:\n%s", out)
}

// metric adds up a metric's samples on the health listener.
func (p *aggregatorProc) metric(t testing.TB, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + p.health + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, name+" ") || strings.HasPrefix(line, name+"{") {
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			if err == nil {
				sum += v
			}
		}
	}
	return sum
}

// Two agents replay recorded flows to an aggregator that is killed with
// SIGKILL in the middle and started again: every flow ends up in the
// baseline exactly once, as learning the same files directly gives.
func TestAgentsSurviveAggregatorKill(t *testing.T) {
	dir := t.TempDir()
	const perAgent = 100_000
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
	agg := newAggregatorProc(t, dir)
	log := filepath.Join(dir, "aggregator.log")
	first := agg.start(t, log)
	var agents []*exec.Cmd
	var outs []*bytes.Buffer
	for i, name := range files {
		cmd := exec.Command(os.Args[0], "agent", "--server", agg.url(), "--token-file", agg.token, "--from", name,
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
	// Killed three times, at about 20%, 45% and 70% of the records; the
	// records metric counts what the running process received.
	proc, stored := first, uint64(0)
	for _, frac := range []float64{0.2, 0.45, 0.7} {
		waitMetric(t, agg, "flowpol_aggregator_records_total", frac*2*perAgent-float64(stored))
		if err := proc.Process.Kill(); err != nil { // SIGKILL
			t.Fatal(err)
		}
		proc.Wait()
		if stored = storedConnections(t, agg.db); stored == 0 || stored >= 2*perAgent {
			t.Fatalf("the kill left %d of %d connections stored: it did not land in the middle, the test proves nothing", stored, 2*perAgent)
		}
		proc = agg.start(t, log)
	}
	second := proc
	for i, cmd := range agents {
		if err := waitTimeout(cmd, 2*time.Minute); err != nil {
			t.Fatalf("agent %d: %v\n%s", i, err, outs[i])
		}
	}
	// Every batch the agents were told is in is committed: killing the
	// aggregator again loses none of them.
	second.Process.Kill()
	second.Wait()
	if got := storedConnections(t, agg.db); got != 2*perAgent {
		t.Fatalf("the baseline holds %d connections, want every one of the %d exactly once", got, 2*perAgent)
	}
	direct := filepath.Join(dir, "direct.db")
	for _, name := range files {
		mustRun(t, "learn", "--from", name, "--inventory", repoFile("testdata", "example", "cluster.yaml"), "--db", direct)
	}
	until := "2026-11-22T12:00:00Z"
	want := mustRun(t, "topology", "--db", direct, "--until", until).out
	if got := mustRun(t, "topology", "--db", agg.db, "--until", until).out; got != want {
		t.Errorf("the aggregator's baseline differs from learning the files directly:\n%s", firstDiff(want, got))
	}
}

func waitMetric(t testing.TB, p *aggregatorProc, name string, atLeast float64) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
		if p.metric(t, name) >= atLeast {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s stayed below %v for 2 minutes", name, atLeast)
}

func waitTimeout(cmd *exec.Cmd, d time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		cmd.Process.Kill()
		return fmt.Errorf("still running after %v", d)
	}
}

// startAggregator runs an aggregator in-process until the test ends.
func startAggregator(t testing.TB, p *aggregatorProc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() {
		var out, errb bytes.Buffer
		code := cli.Run(ctx, p.args, cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
		done <- result{code: code, out: out.String(), err: errb.String()}
	}()
	t.Cleanup(func() {
		cancel()
		if r := <-done; r.code != 0 {
			t.Errorf("aggregator: exit %d\n%s", r.code, r.err)
		}
	})
	p.waitReady(t, "/dev/null")
}

// generate, check, diff and topology read the same window from the
// aggregator as from its file: the example's policies are the golden ones.
func TestReadFromServer(t *testing.T) {
	dir := t.TempDir()
	agg := newAggregatorProc(t, dir)
	startAggregator(t, agg)
	mustRun(t, "agent", "--server", agg.url(), "--token-file", agg.token, "--from", repoFile("testdata", "example", "flows.jsonl"),
		"--spool", filepath.Join(dir, "spool"))
	until := "2026-11-22T12:00:00Z"
	server := []string{"--server", agg.url(), "--token-file", agg.token, "--until", until}
	got := mustRun(t, append([]string{"generate"}, server...)...).out
	golden(t, repoFile("testdata", "example", "policies.golden.yaml"), got)
	learned := filepath.Join(dir, "learned.db")
	mustRun(t, "learn", "--from", repoFile("testdata", "example", "flows.jsonl"), "--inventory", repoFile("testdata", "example", "cluster.yaml"), "--db", learned)
	for _, cmd := range [][]string{{"topology"}, {"check", "--policies", repoFile("testdata", "example", "policies.golden.yaml")}} {
		want := run(t, "", append(cmd, "--db", learned, "--until", until)...)
		r := run(t, "", append(cmd, server...)...)
		if r.code != want.code || r.out != want.out {
			t.Errorf("%s --server: exit %d, want %d:\n%s", cmd[0], r.code, want.code, firstDiff(want.out, r.out))
		}
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no token", []string{"generate", "--server", agg.url(), "--until", until}, "401"},
		{"both --db and --server", []string{"generate", "--server", agg.url(), "--db", learned}, "none of the others can be"},
		{"not a URL", []string{"generate", "--server", "flowpol:8443"}, "want an http:// or https:// URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", tt.args...)
			if r.code == 0 || !strings.Contains(r.err, tt.want) {
				t.Errorf("exit %d, stderr %q; want an error saying %q", r.code, r.err, tt.want)
			}
		})
	}
}

// An agent given a malformed record ships those before it and fails
// naming the line.
func TestAgentBadRecord(t *testing.T) {
	dir := t.TempDir()
	agg := newAggregatorProc(t, dir)
	startAggregator(t, agg)
	var in bytes.Buffer
	writeRecords(&in, 0, 10)
	in.WriteString(`{"time":"2026-11-22T10:00:00Z","proto":"ICMP"}` + "\n")
	r := run(t, in.String(), "agent", "--server", agg.url(), "--token-file", agg.token, "--from", "-", "--spool", filepath.Join(dir, "spool"))
	if r.code != 1 || !strings.Contains(r.err, "-:11") || !strings.Contains(r.err, "the 10 records before it were shipped") {
		t.Fatalf("exit %d\n%s", r.code, r.err)
	}
}

// An agent replaying with a token the aggregator refuses exits non-zero
// after --auth-failures refusals, naming the token file, instead of
// retrying for ever; what it read stays in its spool.
func TestAgentRefusedToken(t *testing.T) {
	dir := t.TempDir()
	agg := newAggregatorProc(t, dir)
	startAggregator(t, agg)
	wrong := filepath.Join(dir, "wrong-token")
	writeFile(t, wrong, "not-the-token\n")
	var in bytes.Buffer
	if err := writeRecords(&in, 0, 10); err != nil {
		t.Fatal(err)
	}
	done := make(chan result, 1)
	go func() {
		done <- run(t, in.String(), "agent", "--server", agg.url(), "--token-file", wrong, "--from", "-",
			"--spool", filepath.Join(dir, "spool"), "--min-backoff", "1ms", "--max-backoff", "10ms", "--auth-failures", "3")
	}()
	select {
	case r := <-done:
		if r.code == 0 || !strings.Contains(r.err, wrong) || !strings.Contains(r.err, "refused the same token 3 times") {
			t.Fatalf("exit %d, stderr:\n%s\nwant an error naming %s and the refusals", r.code, r.err, wrong)
		}
	case <-time.After(time.Minute):
		t.Fatal("the agent was still retrying a refused token after a minute")
	}
}

// An aggregator that cannot listen says so and exits non-zero.
func TestAggregatorPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, flag := range []string{"--listen", "--health-listen"} {
		t.Run(flag, func(t *testing.T) {
			p := newAggregatorProc(t, t.TempDir())
			args := append(slices.Clone(p.args), flag, busy.Addr().String())
			r := run(t, "", args...)
			if r.code == 0 || !strings.Contains(r.err, flag) || !strings.Contains(r.err, "address already in use") {
				t.Errorf("exit %d, stderr:\n%s\nwant an error naming %s and the address in use", r.code, r.err, flag)
			}
		})
	}
}
