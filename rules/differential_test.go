package rules_test

import (
	"fmt"
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/flowpol/flowpol/evaluator"
	"github.com/flowpol/flowpol/internal/randnet"
	"github.com/flowpol/flowpol/rules"
)

// TestDecideMatchesEvaluator compiles random clusters' policies and checks
// that the tables decide every probe (each ordered pair of pods, over IPv4
// and IPv6, and each pod with each address outside the pods, both ways, on
// each port and protocol) as the evaluator does. A wrong class, CIDR
// containment, port prefix or named-port resolution shows as a
// disagreement.
func TestDecideMatchesEvaluator(t *testing.T) {
	cases := 2000
	if testing.Short() {
		cases = 300
	}
	var probes, allowed int
	for i := range cases {
		w := randnet.New(20261123, i).World()
		c := newCase(t, w)
		for _, p := range c.probes() {
			want := c.engine.Check(p.src.peer, p.dst.peer, p.port, p.proto)
			got := c.tables.Decide(p.src.addr, p.dst.addr, p.port, p.proto)
			if got.Allowed != want.Allowed {
				y, _ := rules.Marshal(c.set)
				t.Fatalf("case %d: %s -> %s %d/%s: tables say allowed=%v, evaluator %v (%s)\n%s",
					i, p.src, p.dst, p.port, p.proto, got.Allowed, want.Allowed, want.Reason, y)
			}
			probes++
			if want.Allowed {
				allowed++
			}
		}
	}
	t.Logf("%d cases, %d probes, %d allowed", cases, probes, allowed)
	if allowed < probes/10 || probes-allowed < probes/10 {
		t.Errorf("%d of %d probes allowed: too lax or too strict to compare", allowed, probes)
	}
}

type end struct {
	name string
	peer evaluator.Peer
	addr netip.Addr
}

func (e end) String() string { return fmt.Sprintf("%s(%s)", e.name, e.addr) }

type diffCase struct {
	w      *randnet.World
	engine *evaluator.Engine
	tables *rules.Tables
	set    *rules.Set
	pods   [][2]end // IPv4 and IPv6 end of each pod
}

// newCase gives each pod an IPv4 and an IPv6 address.
func newCase(t *testing.T, w *randnet.World) *diffCase {
	t.Helper()
	nsLabels := w.NamespaceLabels()
	engine, err := evaluator.New(nsLabels, w.Policies)
	if err != nil {
		t.Fatal(err)
	}
	set, err := rules.Compile(w.Policies)
	if err != nil {
		t.Fatal(err)
	}
	c := &diffCase{w: w, engine: engine, set: set}
	var pods []rules.Pod
	for i := range w.Pods {
		p := &w.Pods[i]
		v4, v6 := randnet.PodAddrs(i)
		ports := randnet.ContainerPorts(p)
		pods = append(pods, rules.Pod{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels, IPs: []netip.Addr{v4, v6}, Ports: ports})
		ep := evaluator.Peer{Pod: &evaluator.Pod{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels, Ports: ports}}
		name := p.Namespace + "/" + p.Name
		c.pods = append(c.pods, [2]end{{name, ep, v4}, {name, ep, v6}})
	}
	if c.tables, err = rules.Resolve(set, pods, nsLabels); err != nil {
		t.Fatal(err)
	}
	return c
}

type probe struct {
	src, dst end
	port     uint16
	proto    corev1.Protocol
}

func (c *diffCase) probes() []probe {
	var pairs [][2]end
	for _, p := range c.pods {
		for _, q := range c.pods {
			pairs = append(pairs, [2]end{p[0], q[0]}, [2]end{p[1], q[1]})
		}
		addrs := append(c.w.Addrs, netip.MustParseAddr("2001:db8::1"))
		for _, a := range addrs {
			e := end{a.String(), evaluator.Peer{Addr: a}, a}
			fam := 0
			if a.Is6() {
				fam = 1
			}
			pairs = append(pairs, [2]end{p[fam], e}, [2]end{e, p[fam]})
		}
	}
	var out []probe
	for _, pr := range pairs {
		for _, port := range randnet.Ports() {
			for _, proto := range randnet.Protocols() {
				out = append(out, probe{pr[0], pr[1], port, proto})
			}
		}
	}
	return out
}
