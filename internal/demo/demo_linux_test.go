//go:build linux

package demo_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowpol/flowpol/cmd/flowpol/cli"
	"github.com/flowpol/flowpol/internal/demo"
	"github.com/flowpol/flowpol/internal/testpods"
)

// TestMain lets the demo run this binary as the app's programs and as
// flowpol.
func TestMain(m *testing.M) {
	demo.MaybeRunRole()
	if os.Getenv("FLOWPOL_TEST_MAIN") == "1" { // as cmd/flowpol's main
		if os.Getenv("FLOWPOL_TEST_NO_ENFORCE") == "1" && len(os.Args) > 1 && os.Args[1] == "enforce" {
			os.Stderr.WriteString("flowpol: unknown command \"enforce\"\n")
			os.Exit(1)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := cli.Run(ctx, os.Args[1:], cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

const prefix = "fpdemotest-"

func runDemo(t *testing.T, ctx context.Context, learn time.Duration, env ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	env = append([]string{"FLOWPOL_TEST_MAIN=1"}, env...)
	err := demo.Run(ctx, demo.Options{Flowpol: os.Args[0], FlowpolEnv: env, Learn: learn, Prefix: prefix, Out: &out, Err: &errb})
	t.Logf("demo output:\n%s\nflowpol's log:\n%s", out.String(), errb.String())
	return out.String(), err
}

// The demo learns the app, prints policies that deny nothing observed,
// enforces them: the app still works, connections
// never made while learning are dropped. It cleans up what an earlier,
// killed run left, and leaves nothing itself, so that it runs again.
func TestDemo(t *testing.T) {
	testpods.RequireRoot(t)
	stale := prefix + "stale"
	if out, err := exec.Command("ip", "netns", "add", stale).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", stale).Run() })
	for i, learn := range []time.Duration{8 * time.Second, 4 * time.Second} {
		out, err := runDemo(t, context.Background(), learn)
		if err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		want := []*regexp.Regexp{
			regexp.MustCompile(`(?m)^kind: NetworkPolicy$`),
			regexp.MustCompile(`(?m)^  name: flowpol-statefulset-postgres$`),
			regexp.MustCompile(`(?m)^shop/Deployment/catalog +egress +data/StatefulSet/postgres +5432/TCP`),
			regexp.MustCompile(`(?m)^shop/Deployment/cart +external/203\.0\.113\.10 +443/TCP`),
			regexp.MustCompile(`(?m)^0 of \d+ observed flows would be denied$`),
			regexp.MustCompile(`nothing left`),
		}
		if i == 0 {
			want = append(want, regexp.MustCompile(`removed what an earlier run left behind: netns `+stale))
		}
		want = append(want,
			regexp.MustCompile(`(?m)^ok +the learned traffic: (\d+) of (\d+) requests through the whole app succeeded$`),
			regexp.MustCompile(`(?m)^ok +shop/Deployment/catalog -> data/postgres:5432/TCP \(learned\): connected$`),
			regexp.MustCompile(`(?m)^ok +shop/Deployment/frontend -> data/postgres:5432/TCP \(never seen while learning\): dropped$`),
			regexp.MustCompile(`(?m)^ok +shop/Deployment/loadgen -> data/redis:6379/TCP \(never seen while learning\): dropped$`),
			regexp.MustCompile(`(?m)^enforced: the learned traffic flows`))
		for _, re := range want {
			if !re.MatchString(out) {
				t.Errorf("run %d: output lacks %s", i+1, re)
			}
		}
		nothingLeft(t)
	}
}

// A flowpol that cannot enforce fails the demo, which still removes
// everything: enforcement is the demo's point, not an extra.
func TestDemoNeedsEnforce(t *testing.T) {
	testpods.RequireRoot(t)
	out, err := runDemo(t, context.Background(), 3*time.Second, "FLOWPOL_TEST_NO_ENFORCE=1")
	if err == nil || !strings.Contains(err.Error(), "enforce") {
		t.Errorf("demo with a flowpol that cannot enforce: error %v, want one naming enforce\n%s", err, out)
	}
	nothingLeft(t)
}

// Interrupted (Ctrl-C) while learning, the demo still removes everything.
func TestDemoInterrupted(t *testing.T) {
	testpods.RequireRoot(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(4*time.Second, cancel)
	_, err := runDemo(t, ctx, 30*time.Second)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("interrupted demo: %v, want context.Canceled", err)
	}
	nothingLeft(t)
}

// nothingLeft fails when a demo namespace, link or cgroup exists.
func nothingLeft(t *testing.T) {
	t.Helper()
	netns, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	links, err := exec.Command("ip", "-o", "link", "show").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(netns), "\n") {
		if strings.HasPrefix(l, prefix) {
			t.Errorf("network namespace left behind: %s", l)
		}
	}
	if m := regexp.MustCompile(`: (v-(coredns|frontend|catalog|cart|loadgen|postgres|redis|payments))[@:]`).FindString(string(links)); m != "" {
		t.Errorf("link left behind in the host's namespace: %s", m)
	}
	for _, pattern := range []string{"/sys/fs/cgroup/unified/kubepods/burstable/podde300000-*", "/sys/fs/cgroup/unified/" + strings.TrimSuffix(prefix, "-") + "-outside"} {
		if left, _ := filepath.Glob(pattern); len(left) > 0 {
			t.Errorf("cgroups left behind: %v", left)
		}
	}
}
