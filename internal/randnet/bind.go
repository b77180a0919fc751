package randnet

import (
	"fmt"
	"net/netip"

	"github.com/flowpol/flowpol/evaluator"
	"github.com/flowpol/flowpol/rules"
)

// End is one end of a probe: a pod or an outside address, as the evaluator
// sees it, and its address.
type End struct {
	Peer evaluator.Peer
	Addr netip.Addr
}

func (e End) String() string { return fmt.Sprintf("%s(%s)", e.Peer, e.Addr) }

// Bound is a world whose pods have addresses (PodAddrs), with its policies
// in the evaluator and compiled and resolved into enforcer tables.
type Bound struct {
	World  *World
	Engine *evaluator.Engine
	Tables *rules.Tables
	Pods   [][2]End // each pod's IPv4 and IPv6 end
}

// Bind gives each pod of w its addresses and builds both engines.
func Bind(w *World) (*Bound, error) {
	b := &Bound{World: w}
	var err error
	if b.Engine, err = evaluator.New(w.NamespaceLabels(), w.Policies); err != nil {
		return nil, err
	}
	set, err := rules.Compile(w.Policies)
	if err != nil {
		return nil, err
	}
	var pods []rules.Pod
	for i := range w.Pods {
		p := &w.Pods[i]
		v4, v6 := PodAddrs(i)
		ports := ContainerPorts(p)
		pods = append(pods, rules.Pod{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels, IPs: []netip.Addr{v4, v6}, Ports: ports, Node: p.Spec.NodeName})
		peer := evaluator.Peer{Pod: &evaluator.Pod{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels, Ports: ports, Node: p.Spec.NodeName}}
		b.Pods = append(b.Pods, [2]End{{peer, v4}, {peer, v6}})
	}
	node := rules.Node{Name: Node}
	if a, ok := w.NodeAddr(); ok {
		node.Addrs = []netip.Addr{a}
	}
	if b.Tables, err = rules.ResolveOnNode(set, pods, w.NamespaceLabels(), node); err != nil {
		return nil, err
	}
	return b, nil
}

// AddrEnd is an outside address as an end, naming its node when it is
// one's.
func (b *Bound) AddrEnd(a netip.Addr) End {
	return End{evaluator.Peer{Addr: a, Node: b.World.NodeOf(a)}, a}
}

// Pairs are the ordered pairs of pods (a pod with itself too), in each
// family, and each pod with each outside address and with 2001:db8::1,
// both ways.
func (b *Bound) Pairs() [][2]End {
	var out [][2]End
	for _, p := range b.Pods {
		for _, q := range b.Pods {
			out = append(out, [2]End{p[0], q[0]}, [2]End{p[1], q[1]})
		}
		for _, a := range append(b.World.Addrs[:len(b.World.Addrs):len(b.World.Addrs)], netip.MustParseAddr("2001:db8::1")) {
			e := b.AddrEnd(a)
			fam := 0
			if a.Is6() {
				fam = 1
			}
			out = append(out, [2]End{p[fam], e}, [2]End{e, p[fam]})
		}
	}
	return out
}
