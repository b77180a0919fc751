package synth

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"

	corev1 "k8s.io/api/core/v1"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/inventory"
)

// The address plan, read only: nodes in 172.18.0.0/16, one /24 of
// 10.244.0.0/16 and up per node for pods, Services in 10.96.0.0/12, external
// servers in TEST-NET-3.
var (
	nodeBase    = netip.MustParseAddr("172.18.0.2")
	podBase     = netip.MustParseAddr("10.244.0.0")
	apiVIP      = netip.MustParseAddr("10.96.0.1")
	dnsVIP      = netip.MustParseAddr("10.96.0.10")
	serviceBase = netip.MustParseAddr("10.96.1.0")
	externBase  = netip.MustParseAddr("203.0.113.10")
)

// builder fills an inventory and plans the edges.
type builder struct {
	opts      Options
	rng       *rand.Rand
	inv       *inventory.Inventory
	nodes     []node
	nextNode  int
	dns       *workload // CoreDNS
	api       *edge     // a client's call to the API server, less the client
	workloads []*workload
	edges     []edge
	seen      map[edgeID]bool
}

type node struct {
	name string
	ip   netip.Addr
	cidr netip.Prefix
	pods int
}

// edgeID tells edges apart: a client, and its server's address.
type edgeID struct {
	client *workload
	server netip.AddrPort
	proto  flow.Proto
}

func newBuilder(opts Options) *builder {
	return &builder{
		opts: opts,
		rng:  newRand(opts.Seed, 1),
		inv:  &inventory.Inventory{Skipped: map[string]int{}},
		seen: map[edgeID]bool{},
	}
}

func (b *builder) build() error {
	b.addNamespaces()
	b.addNodes()
	if err := b.addSystem(); err != nil {
		return err
	}
	for i := range b.opts.Workloads {
		if err := b.addWorkload(i); err != nil {
			return err
		}
	}
	b.addEdges()
	return nil
}

func (b *builder) addNamespaces() {
	names := []string{"default", "kube-system"}
	for i := range b.opts.Namespaces {
		names = append(names, namespaceName(i))
	}
	for _, n := range names {
		b.inv.Namespaces = append(b.inv.Namespaces, newNamespace(n))
	}
}

func namespaceName(i int) string { return fmt.Sprintf("team-%02d", i) }

func (b *builder) addNodes() {
	for i := range b.opts.Nodes {
		n := node{
			name: fmt.Sprintf("node-%03d", i),
			ip:   addrAdd(nodeBase, i),
			cidr: netip.PrefixFrom(addrAdd(podBase, 256*i), 24),
		}
		b.nodes = append(b.nodes, n)
		b.inv.Nodes = append(b.inv.Nodes, newNode(n.name, n.ip, n.cidr, i == 0))
	}
}

// place puts the next pod on the next node, round robin, and returns
// where it is and its node's address.
func (b *builder) place() (endpoint, netip.Addr, error) {
	n := &b.nodes[b.nextNode]
	b.nextNode = (b.nextNode + 1) % len(b.nodes)
	if n.pods == maxPodsPerNode {
		return endpoint{}, netip.Addr{}, fmt.Errorf("more than %d pods on each of %d nodes: add nodes", maxPodsPerNode, len(b.nodes))
	}
	n.pods++
	return endpoint{addr: addrAdd(n.cidr.Addr(), 1+n.pods), node: n.name}, n.ip, nil
}

// addSystem adds CoreDNS behind kube-dns and the kubernetes Service.
func (b *builder) addSystem() error {
	b.dns = &workload{ns: "kube-system", name: "coredns", comm: "coredns", vip: dnsVIP}
	ports := []corev1.ContainerPort{
		containerPort("dns", 53, corev1.ProtocolUDP),
		containerPort("dns-tcp", 53, corev1.ProtocolTCP),
		containerPort("metrics", 9153, corev1.ProtocolTCP),
	}
	labels := map[string]string{"k8s-app": "kube-dns"}
	pods, err := b.deployment("kube-system", "coredns", labels, container("coredns", "registry.k8s.io/coredns/coredns:v1.12.0", ports...), 2)
	if err != nil {
		return err
	}
	b.dns.pods = pods
	b.inv.Services = append(b.inv.Services, newService("kube-system", "kube-dns", labels, dnsVIP,
		servicePort("dns", 53, intOrName(53, ""), corev1.ProtocolUDP),
		servicePort("dns-tcp", 53, intOrName(53, ""), corev1.ProtocolTCP)))
	cp := endpoint{addr: b.nodes[0].ip, node: b.nodes[0].name}
	b.inv.Services = append(b.inv.Services, newService("default", "kubernetes", nil, apiVIP,
		servicePort("https", 443, intOrName(6443, ""), corev1.ProtocolTCP)))
	b.inv.EndpointSlices = append(b.inv.EndpointSlices, newAPIServerSlice(cp.addr, 6443))
	vip := netip.AddrPortFrom(apiVIP, 443)
	b.api = &edge{server: vip, dial: vip, proto: flow.TCP, target: 6443, backends: []endpoint{cp}, comm: "kube-apiserver"}
	return nil
}

// addWorkload adds the i-th workload: one in ten a StatefulSet, the others
// Deployments, each with a Service.
func (b *builder) addWorkload(i int) error {
	stateful := i%10 == 9
	w := &workload{ns: namespaceName(i % b.opts.Namespaces), stateful: stateful, vip: addrAdd(serviceBase, i), pid: 1 + uint32(b.rng.IntN(4_000_000))}
	w.name, w.comm, w.port = profile(i, stateful)
	labels := map[string]string{"app": w.name, "tier": tierOf(stateful)}
	c := container(w.name, "registry.example.com/"+w.name+":1.0",
		containerPort(w.port.name, w.port.target, corev1.ProtocolTCP),
		containerPort("metrics", 9102, corev1.ProtocolTCP))
	var err error
	if stateful {
		w.pods, err = b.statefulSet(w.ns, w.name, labels, c, 2+b.rng.IntN(2))
	} else {
		w.pods, err = b.deployment(w.ns, w.name, labels, c, 2+b.rng.IntN(2))
	}
	if err != nil {
		return err
	}
	target := intOrName(w.port.target, "")
	if w.port.named {
		target = intOrName(0, w.port.name)
	}
	b.inv.Services = append(b.inv.Services, newService(w.ns, w.name, map[string]string{"app": w.name}, w.vip,
		servicePort(w.port.name, w.port.svc, target, corev1.ProtocolTCP)))
	b.workloads = append(b.workloads, w)
	return nil
}

func tierOf(stateful bool) string {
	if stateful {
		return "data"
	}
	return "app"
}

// profile names the i-th workload, its process, and the port it serves.
func profile(i int, stateful bool) (name, comm string, port portSpec) {
	if stateful {
		kinds := [...]struct {
			name, comm string
			port       uint16
		}{{"postgres", "postgres", 5432}, {"redis", "redis-server", 6379}, {"kafka", "java", 9092}}
		k := kinds[(i/10)%len(kinds)]
		return fmt.Sprintf("%s-%d", k.name, i), k.comm, portSpec{name: k.name, svc: k.port, target: k.port, proto: flow.TCP}
	}
	words := [...]string{"api", "web", "cart", "checkout", "auth", "search", "catalog", "payments",
		"orders", "users", "notify", "billing", "gateway", "stock", "ledger", "reports"}
	comms := [...]string{"java", "python3", "node", "envoy", "app"}
	ports := [...]portSpec{{name: "http", svc: 80, target: 8080}, {name: "grpc", svc: 9090, target: 9090},
		{name: "http", svc: 8080, target: 8080}, {name: "https", svc: 443, target: 8443}}
	port = ports[i%len(ports)]
	port.proto, port.named = flow.TCP, i%3 == 0
	return fmt.Sprintf("%s-%d", words[i%len(words)], i), comms[i%len(comms)], port
}

// addrAdd returns the IPv4 address n after a.
func addrAdd(a netip.Addr, n int) netip.Addr {
	v := a.As4()
	u := binary.BigEndian.Uint32(v[:]) + uint32(n)
	return netip.AddrFrom4([4]byte(binary.BigEndian.AppendUint32(nil, u)))
}

// randName returns n characters as Kubernetes picks them for generated
// names.
func (b *builder) randName(n int) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	out := make([]byte, n)
	for i := range out {
		out[i] = alphabet[b.rng.IntN(len(alphabet))]
	}
	return string(out)
}

// uid returns a random version-4 UUID.
func (b *builder) uid() string {
	hi, lo := b.rng.Uint64(), b.rng.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", hi>>32, (hi>>16)&0xffff, hi&0xfff, 0x8000|(lo>>48)&0x3fff, lo&0xffffffffffff)
}
