//go:build linux && (386 || amd64 || arm64)

package enforce

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/flowpol/flowpol/internal/testpods"
	"github.com/flowpol/flowpol/rules"
)

const cgroupRoot = "/sys/fs/cgroup/unified"

// shop is three pods in one namespace: client, server and other.
type shop struct {
	c                     *testpods.Cluster
	client, server, other *testpods.Pod
	pods                  []rules.Pod
}

func newShop(t *testing.T) *shop {
	s := &shop{c: testpods.New(t, cgroupRoot)}
	add := func(name, addr, addr6 string) *testpods.Pod {
		p := s.c.AddPod(name, testpods.NewUID(), netip.MustParsePrefix(addr), netip.MustParsePrefix(addr6))
		s.pods = append(s.pods, rules.Pod{Namespace: "shop", Name: name, Labels: map[string]string{"app": name},
			IPs: []netip.Addr{netip.MustParsePrefix(addr).Addr(), netip.MustParsePrefix(addr6).Addr()}})
		return p
	}
	s.client = add("client", "10.77.0.2/24", "fd77::2/64")
	s.server = add("server", "10.77.0.3/24", "fd77::3/64")
	s.other = add("other", "10.77.0.4/24", "fd77::4/64")
	for _, a := range []string{"10.77.0.3:8080", "10.77.0.3:9090", "[fd77::3]:8080"} {
		s.server.StartServer(t, "tcp-serve", a)
	}
	s.server.StartServer(t, "udp-serve", "10.77.0.3:53")
	s.server.StartServer(t, "tcp-echo", "10.77.0.3:7070")
	return s
}

// serverPolicy lets client reach server on the given TCP ports and UDP 53.
func serverPolicy(tcpPorts ...int32) networkingv1.NetworkPolicy {
	udp := corev1.ProtocolUDP
	ports := []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: new(intstr.FromInt32(53))}}
	for _, p := range tcpPorts {
		ports = append(ports, networkingv1.NetworkPolicyPort{Port: new(intstr.FromInt32(p))})
	}
	return networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "server"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "server"}},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "client"}}}},
				Ports: ports,
			}},
		},
	}
}

func (s *shop) tables(t testing.TB, policies ...networkingv1.NetworkPolicy) *rules.Tables {
	t.Helper()
	set, err := rules.Compile(policies)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := rules.Resolve(set, s.pods, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tables
}

// enforcer attaches to every pod's host-side interface and collects the
// verdicts.
func (s *shop) enforcer(t *testing.T, opts Options) (*Enforcer, *verdictLog) {
	t.Helper()
	opts.Netns = s.c.Node()
	for _, p := range []*testpods.Pod{s.client, s.server, s.other} {
		opts.Interfaces = append(opts.Interfaces, p.HostIface)
	}
	e, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	log := &verdictLog{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.Run(ctx, log.add) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		if err := e.Close(); err != nil {
			t.Error(err)
		}
	})
	return e, log
}

type verdictLog struct {
	mu sync.Mutex
	vs []Verdict
}

func (l *verdictLog) add(v Verdict) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.vs = append(l.vs, v)
}

func stats(t *testing.T, e *Enforcer) Stats {
	t.Helper()
	st, err := e.Stats()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// waitStats polls the datapath's counters until ok says yes, for at most
// 10 s, and returns them.
func waitStats(t *testing.T, e *Enforcer, ok func(Stats) bool) Stats {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := stats(t, e)
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("counters %+v: not there after 10s", st)
		}
		time.Sleep(10 * time.Millisecond) // the poll interval
	}
}

// find waits up to a second for a verdict matching.
func (l *verdictLog) find(match func(Verdict) bool) (Verdict, bool) {
	for range 20 {
		l.mu.Lock()
		i := slices.IndexFunc(l.vs, match)
		var v Verdict
		if i >= 0 {
			v = l.vs[i]
		}
		l.mu.Unlock()
		if i >= 0 {
			return v, true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return Verdict{}, false
}

// probe runs the probe helper in a pod and returns each target's result.
func probe(t *testing.T, p *testpods.Pod, targets ...string) map[string]string {
	t.Helper()
	out := p.RunClientOutput(t, "probe", targets...)
	res := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		target, r, _ := strings.Cut(line, " ")
		res[target] = r
	}
	return res
}

// TestEnforceAndAudit checks, over TCX and over cls_bpf, that allowed
// connections (TCP over IPv4 and IPv6, and a UDP query, whose reply must
// pass) get through and others are dropped, or in audit mode only
// reported, with verdicts naming the rule or the isolating policy.
func TestEnforceAndAudit(t *testing.T) {
	for _, tc := range []struct {
		audit  bool
		attach string
	}{{false, AttachTCX}, {true, AttachTCX}, {false, AttachTC}} {
		audit := tc.audit
		t.Run(fmt.Sprintf("audit=%v,%s", audit, tc.attach), func(t *testing.T) {
			s := newShop(t)
			e, log := s.enforcer(t, Options{Audit: audit, Attach: tc.attach})
			if err := e.Update(s.tables(t, serverPolicy(8080, 7070))); err != nil {
				t.Fatal(err)
			}
			blocked := "blocked"
			if audit {
				blocked = "ok" // reported, not dropped
			}
			want := map[*testpods.Pod]map[string]string{
				s.client: {"tcp:10.77.0.3:8080": "ok", "tcp:[fd77::3]:8080": "ok", "udp:10.77.0.3:53": "ok", "tcp:10.77.0.3:9090": blocked},
				s.other:  {"tcp:10.77.0.3:8080": blocked, "tcp:[fd77::3]:8080": blocked, "udp:10.77.0.3:53": blocked},
			}
			for pod, targets := range want {
				got := probe(t, pod, slices.Sorted(maps.Keys(targets))...)
				for target, w := range targets {
					if got[target] != w {
						t.Errorf("%s -> %s: %s, want %s", pod.Name, target, got[target], w)
					}
				}
			}
			v, ok := log.find(func(v Verdict) bool {
				return v.Kind == Denied && v.SrcPod == "shop/other" && v.Dst.Port() == 8080
			})
			if !ok || v.Policy != "shop/server" || v.Audit != audit || v.Direction != rules.Ingress {
				t.Errorf("denied verdict for other -> server:8080: %+v (found %v)", v, ok)
			}
			if _, ok := log.find(func(v Verdict) bool {
				return v.Kind == Allowed && v.SrcPod == "shop/client" && v.Dst.Port() == 8080 && v.Rule != nil && v.Rule.Policy == "shop/server"
			}); !ok {
				t.Error("no allowed verdict naming the rule for client -> server:8080")
			}
			st, err := e.Stats()
			if err != nil {
				t.Fatal(err)
			}
			if audit && (st.Dropped != 0 || st.Audited == 0) || !audit && (st.Dropped == 0 || st.Audited != 0) {
				t.Errorf("stats %+v in audit=%v", st, audit)
			}
		})
	}
}

// TestUpdateKeepsOrCutsConnections holds a connection open across rule
// updates: one that still allows it keeps it alive; one that no longer
// does cuts it.
func TestUpdateKeepsOrCutsConnections(t *testing.T) {
	s := newShop(t)
	e, log := s.enforcer(t, Options{})
	if err := e.Update(s.tables(t, serverPolicy(8080, 7070))); err != nil {
		t.Fatal(err)
	}
	cmd := s.client.Command(os.Args[0], "10.77.0.3:7070")
	cmd.Env = append(cmd.Environ(), "FLOWPOL_HELPER=tcp-hold")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	if !lines.Scan() || lines.Text() != "ready" {
		t.Fatalf("hold did not connect: %q", lines.Text())
	}
	said := make(chan string, 1)
	go func() {
		lines.Scan()
		said <- lines.Text()
	}()

	before := stats(t, e)
	if err := e.Update(s.tables(t, serverPolicy(7070, 8080))); err != nil { // still allowed
		t.Fatal(err)
	}
	// The held connection is decided again under the new rules, and its
	// packets go on passing: a round trip after that decision.
	redecided := waitStats(t, e, func(st Stats) bool { return st.Redecided > before.Redecided })
	after := waitStats(t, e, func(st Stats) bool { return st.Tracked >= redecided.Tracked+2 })
	if after.Dropped != before.Dropped {
		t.Fatalf("%d packets dropped after an update that still allows the connection", after.Dropped-before.Dropped)
	}
	select {
	case l := <-said:
		t.Fatalf("connection ended after an update that still allows it: %q", l)
	default:
	}
	if err := e.Update(s.tables(t, serverPolicy(8080))); err != nil { // no longer allowed
		t.Fatal(err)
	}
	select {
	case l := <-said:
		if l != "cut" {
			t.Fatalf("hold said %q", l)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("connection still alive after an update that denies it")
	}
	if _, ok := log.find(func(v Verdict) bool { return v.Kind == Cut && v.Dst.Port() == 7070 && v.Policy == "shop/server" }); !ok {
		t.Error("no cut verdict for the held connection")
	}
	cmd.Wait()
}
