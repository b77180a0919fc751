package rules

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Pod is what resolving needs of a pod.
type Pod struct {
	Namespace   string
	Name        string
	Labels      map[string]string
	IPs         []netip.Addr
	Ports       []corev1.ContainerPort // for named ports
	HostNetwork bool
	// Node is the node the pod runs on.
	Node string
}

// Node is the node the tables are for: its name, and the addresses it
// reaches its pods from (its own, and a bridge's where pods hang off one).
// Traffic between the pods that run on it and those addresses is always
// allowed, as NetworkPolicy defines it; the zero Node has no pods.
type Node struct {
	Name  string
	Addrs []netip.Addr
}

// OwnNodeRule is the rule a Decision (and the datapath) names when it
// allowed traffic between a pod and its own node: no rule of the Set.
const OwnNodeRule uint32 = math.MaxUint32

// World is the class of an address that no policy CIDR holds and no pod has.
const World uint32 = 1

// v4World holds every IPv4 address (as ::ffff:0:0/96), so that an IPv4
// address never falls through to a short IPv6 prefix.
var v4World = netip.MustParsePrefix("::ffff:0.0.0.0/96")

// IsoKey is an isolation entry's key.
type IsoKey struct {
	Class uint32
	Dir   Direction
}

// PolicyKey is a policy entry: Bits is how many leading bits of the
// protocol and the port (big-endian) it fixes: 0 (every protocol), 8 (every
// port of Proto), or 8+n for a port prefix of length n.
type PolicyKey struct {
	Self, Other uint32
	Dir         Direction
	Proto       uint8
	Port        uint16
	Bits        uint8
}

// Class is an identity class: the pods that share it, or a CIDR, or World.
type Class struct {
	ID     uint32
	Pods   []string     // namespace/name
	Prefix netip.Prefix // for a CIDR class, in its own family
	// Node marks the class of one of the node's addresses (a single-address
	// Prefix), and for a pod class, pods that run on the node.
	Node  bool
	ports []corev1.ContainerPort
}

// Tables are a Set bound to a cluster's pods: the enforcer's maps.
type Tables struct {
	Set       *Set
	Classes   []Class // by ID-1
	Endpoints map[netip.Addr]uint32
	CIDRs     map[netip.Prefix]uint32 // IPv4 as ::ffff:0:0/96 + prefix
	Isolation map[IsoKey]uint32       // → index+1 into Set.Isolation
	Policy    map[PolicyKey]uint32    // → Rule.ID
	PodOf     map[netip.Addr]string   // address → namespace/name
	members   map[int][]uint32        // identity → the pod classes it holds
}

// Resolve binds a set to pods and the namespaces' labels, for no node in
// particular (see ResolveOnNode). Pods without addresses, and hostNetwork
// pods, have no endpoint of their own.
func Resolve(set *Set, pods []Pod, namespaces map[string]map[string]string) (*Tables, error) {
	return ResolveOnNode(set, pods, namespaces, Node{})
}

// ResolveOnNode binds a set to pods and the namespaces' labels for the
// enforcer of one node: traffic between the pods on node and its
// addresses is allowed whatever the rules (OwnNodeRule).
func ResolveOnNode(set *Set, pods []Pod, namespaces map[string]map[string]string, node Node) (*Tables, error) {
	r, err := newResolver(set, namespaces)
	if err != nil {
		return nil, err
	}
	t := &Tables{Set: set, Endpoints: map[netip.Addr]uint32{}, CIDRs: map[netip.Prefix]uint32{},
		Isolation: map[IsoKey]uint32{}, Policy: map[PolicyKey]uint32{}, PodOf: map[netip.Addr]string{}, members: map[int][]uint32{}}
	t.Classes = append(t.Classes, Class{ID: World})
	t.cidrClasses(set, node.Addrs)
	local := t.podClasses(r, pods, node.Name)
	t.isolation()
	t.policy()
	t.ownNode(local)
	return t, nil
}

// ownNode allows, for every class of pods on the node, all traffic with
// the node's address classes, both ways.
func (t *Tables) ownNode(local []uint32) {
	for _, c := range t.Classes {
		if !c.Node || !c.Prefix.IsValid() {
			continue // not one of the node's addresses
		}
		for _, self := range local {
			for _, dir := range []Direction{Ingress, Egress} {
				t.Policy[PolicyKey{Self: self, Other: c.ID, Dir: dir}] = OwnNodeRule
			}
		}
	}
}

// resolver matches pods against a set's identities.
type resolver struct {
	namespaces map[string]labels.Set
	ids        []compiledIdentity
}

type compiledIdentity struct {
	ns            string
	nsSel, podSel labels.Selector // nil: absent
}

func newResolver(set *Set, namespaces map[string]map[string]string) (*resolver, error) {
	r := &resolver{namespaces: map[string]labels.Set{}}
	for ns, l := range namespaces {
		s := labels.Set{}
		maps.Copy(s, l)
		s[corev1.LabelMetadataName] = ns
		r.namespaces[ns] = s
	}
	for _, id := range set.Identities {
		ci := compiledIdentity{ns: id.Namespace}
		var err error
		if id.NamespaceSelector != nil {
			if ci.nsSel, err = metav1.LabelSelectorAsSelector(id.NamespaceSelector); err != nil {
				return nil, fmt.Errorf("identity %d: namespaceSelector: %w", id.ID, err)
			}
		}
		if id.PodSelector != nil {
			if ci.podSel, err = metav1.LabelSelectorAsSelector(id.PodSelector); err != nil {
				return nil, fmt.Errorf("identity %d: podSelector: %w", id.ID, err)
			}
		}
		r.ids = append(r.ids, ci)
	}
	return r, nil
}

func (r *resolver) nsLabels(ns string) labels.Set {
	if l, ok := r.namespaces[ns]; ok {
		return l
	}
	return labels.Set{corev1.LabelMetadataName: ns}
}

// matches are the ids of the identities a pod belongs to.
func (r *resolver) matches(p *Pod) []int {
	var out []int
	for i, id := range r.ids {
		if id.nsSel != nil {
			if !id.nsSel.Matches(r.nsLabels(p.Namespace)) {
				continue
			}
		} else if id.ns != p.Namespace {
			continue
		}
		if id.podSel == nil || id.podSel.Matches(labels.Set(p.Labels)) {
			out = append(out, i+1)
		}
	}
	return out
}

// cidrClasses makes a class of each CIDR and exception the rules name,
// and of each of the node's addresses.
func (t *Tables) cidrClasses(set *Set, node []netip.Addr) {
	seen := map[netip.Prefix]bool{}
	isNode := map[netip.Prefix]bool{}
	for _, a := range node {
		a = a.Unmap()
		p := netip.PrefixFrom(a, a.BitLen())
		seen[p], isNode[p] = true, true
	}
	for _, r := range set.Rules {
		if r.Peer == nil || r.Peer.CIDR == "" {
			continue
		}
		for _, s := range append([]string{r.Peer.CIDR}, r.Peer.Except...) {
			seen[netip.MustParsePrefix(s)] = true // parsed by Compile
		}
	}
	prefixes := slices.SortedFunc(maps.Keys(seen), comparePrefix)
	t.CIDRs[v4World] = World
	for _, p := range prefixes {
		id := uint32(len(t.Classes) + 1)
		t.Classes = append(t.Classes, Class{ID: id, Prefix: p, Node: isNode[p]})
		t.CIDRs[mapped(p)] = id
	}
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return cmp.Compare(a.Bits(), b.Bits())
}

// mapped is a prefix in the 16-byte form the datapath keys on.
func mapped(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4() {
		return netip.PrefixFrom(netip.AddrFrom16(p.Addr().As16()), p.Bits()+96)
	}
	return p
}

// podClasses groups pods that the same identities match, that name their
// ports alike and that run on the node or not; it returns the classes of
// the pods on the node.
func (t *Tables) podClasses(r *resolver, pods []Pod, node string) []uint32 {
	byKey := map[string]uint32{}
	var local []uint32
	for i := range pods {
		p := &pods[i]
		if p.HostNetwork || len(p.IPs) == 0 {
			continue
		}
		ids := r.matches(p)
		ports := namedPorts(p.Ports)
		onNode := node != "" && p.Node == node
		key := fmt.Sprint(ids, ports, onNode)
		id, ok := byKey[key]
		if !ok {
			id = uint32(len(t.Classes) + 1)
			byKey[key] = id
			t.Classes = append(t.Classes, Class{ID: id, ports: ports, Node: onNode})
			for _, identity := range ids {
				t.members[identity] = append(t.members[identity], id)
			}
			if onNode {
				local = append(local, id)
			}
		}
		c := &t.Classes[id-1]
		c.Pods = append(c.Pods, p.Namespace+"/"+p.Name)
		for _, a := range p.IPs {
			a = netip.AddrFrom16(a.As16())
			t.Endpoints[a] = id
			t.PodOf[a] = p.Namespace + "/" + p.Name
		}
	}
	return local
}

// namedPorts are a pod's named ports, sorted, protocol defaulted.
func namedPorts(ports []corev1.ContainerPort) []corev1.ContainerPort {
	var out []corev1.ContainerPort
	for _, p := range ports {
		if p.Name == "" {
			continue
		}
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		out = append(out, corev1.ContainerPort{Name: p.Name, Protocol: p.Protocol, ContainerPort: p.ContainerPort})
	}
	slices.SortFunc(out, func(a, b corev1.ContainerPort) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(string(a.Protocol), string(b.Protocol)), cmp.Compare(a.ContainerPort, b.ContainerPort))
	})
	return out
}

// classesOf are the pod classes an identity holds, by ID.
func (t *Tables) classesOf(identity int) []uint32 { return t.members[identity] }

func (t *Tables) isolation() {
	for i, iso := range t.Set.Isolation {
		for _, c := range t.classesOf(iso.Identity) {
			k := IsoKey{Class: c, Dir: iso.Direction}
			if _, ok := t.Isolation[k]; !ok {
				t.Isolation[k] = uint32(i + 1)
			}
		}
	}
}

// policy writes each rule's entries; where rules overlap, the first keeps
// the entry.
func (t *Tables) policy() {
	for i := range t.Set.Rules {
		r := &t.Set.Rules[i]
		others := t.peerClasses(r.Peer)
		for _, self := range t.classesOf(r.Subject) {
			for _, other := range others {
				dst := self
				if r.Direction == Egress {
					dst = other
				}
				for _, k := range t.portKeys(r.Ports, dst) {
					k.Self, k.Other, k.Dir = self, other, r.Direction
					if _, ok := t.Policy[k]; !ok {
						t.Policy[k] = uint32(r.ID)
					}
				}
			}
		}
	}
}

// peerClasses are the classes a peer holds: for a CIDR, the CIDR classes
// inside it and inside none of its exceptions.
func (t *Tables) peerClasses(p *Peer) []uint32 {
	var out []uint32
	switch {
	case p == nil:
		for _, c := range t.Classes {
			out = append(out, c.ID)
		}
	case p.CIDR != "":
		for _, c := range t.Classes {
			if c.Prefix.IsValid() && blockHolds(p, c.Prefix) {
				out = append(out, c.ID)
			}
		}
	default:
		out = t.classesOf(p.Identity)
	}
	return out
}

// blockHolds reports whether every address of class prefix c is in the
// block: c is inside the CIDR and inside none of the exceptions (prefixes
// nest or are disjoint, and no longer class prefix holds c's addresses).
func blockHolds(p *Peer, c netip.Prefix) bool {
	if !within(c, netip.MustParsePrefix(p.CIDR)) {
		return false
	}
	for _, ex := range p.Except {
		if within(c, netip.MustParsePrefix(ex)) {
			return false
		}
	}
	return true
}

func within(inner, outer netip.Prefix) bool {
	return inner.Addr().Is4() == outer.Addr().Is4() && outer.Bits() <= inner.Bits() && outer.Contains(inner.Addr())
}

// portKeys are the protocol/port prefixes of a rule's ports; a named port
// is resolved on the destination class (none when it is not a pod class).
func (t *Tables) portKeys(ports []Port, dst uint32) []PolicyKey {
	if len(ports) == 0 {
		return []PolicyKey{{Bits: 0}}
	}
	var out []PolicyKey
	for _, p := range ports {
		proto := protoNumber(p.Protocol)
		if proto == 0 {
			continue
		}
		lo, hi := uint16(p.Port), uint16(p.Port)
		switch {
		case p.Name != "":
			if lo = t.namedPort(dst, p); lo == 0 {
				continue
			}
			hi = lo
		case p.Port == 0:
			out = append(out, PolicyKey{Proto: proto, Bits: 8})
			continue
		case p.EndPort != 0:
			hi = uint16(p.EndPort)
		}
		for _, r := range portPrefixes(lo, hi) {
			out = append(out, PolicyKey{Proto: proto, Port: r.port, Bits: 8 + r.bits})
		}
	}
	return out
}

func (t *Tables) namedPort(class uint32, p Port) uint16 {
	for _, cp := range t.Classes[class-1].ports {
		if cp.Name == p.Name && cp.Protocol == p.Protocol {
			return uint16(cp.ContainerPort)
		}
	}
	return 0
}

// protoNumber is a protocol's IP number, 0 when not governed.
func protoNumber(p corev1.Protocol) uint8 {
	switch p {
	case corev1.ProtocolTCP:
		return 6
	case corev1.ProtocolUDP:
		return 17
	case corev1.ProtocolSCTP:
		return 132
	}
	return 0
}

type portPrefix struct {
	port uint16
	bits uint8 // leading bits fixed, 0..16
}

// portPrefixes splits lo..hi into aligned power-of-two blocks.
func portPrefixes(lo, hi uint16) []portPrefix {
	var out []portPrefix
	for n := uint32(lo); n <= uint32(hi); {
		size := uint32(1)
		bits := uint8(16)
		for bits > 0 && n%(size*2) == 0 && n+size*2-1 <= uint32(hi) {
			size *= 2
			bits--
		}
		out = append(out, portPrefix{port: uint16(n), bits: bits})
		n += size
	}
	return out
}

// String describes a class for logs.
func (c Class) String() string {
	switch {
	case c.ID == World:
		return "world"
	case c.Prefix.IsValid():
		return "cidr " + c.Prefix.String()
	case len(c.Pods) == 1:
		return c.Pods[0]
	default:
		return c.Pods[0] + " (+" + strconv.Itoa(len(c.Pods)-1) + " alike)"
	}
}
