package evaluator_test

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/flowpol/flowpol/evaluator"
	"github.com/flowpol/flowpol/internal/npguard"
	"github.com/flowpol/flowpol/internal/randnet"
)

// The differential tests give the same cluster to this package and to an
// engine that shares no code with it, np-guard's netpol-analyzer, and
// require the same verdict on every probe: every ordered pair of pods and
// every pod with every address outside the pods, in both directions, on
// each probed port over TCP, UDP and SCTP.
//
// Where the two differ by design rather than by mistake the inputs are
// kept out of the comparison or given to netpol-analyzer in an equivalent
// form, each for a reason stated where it is done:
//   - hostNetwork pods are left out: this package never isolates them nor
//     selects them as peers (documented); netpol-analyzer has no notion of
//     hostNetwork and treats them as ordinary pods.
//   - a rule port with a protocol and no port number is given to
//     netpol-analyzer as that protocol's ports 1-65535 (see theirPort);
//   - named egress ports are replaced for the address probes (see
//     theirPolicy);
//   - addresses are IPv4 only: netpol-analyzer evaluates IPv4 blocks only.
//   - traffic between a pod and its own node (half the pods run on the
//     node whose address is the world's first outside address) is always
//     allowed by NetworkPolicy's definition; netpol-analyzer v1.4.4 means
//     to allow it (isPeerNodeIP) but compares the addresses only when
//     parsing the node's address fails, so it never does. Those probes are
//     held to the definition: allowed. The same address with the pods of
//     the other node is compared as any address.
//
// Both engines judge a pod by its labels and an address as an address: an
// address that happens to be a pod's is an address to both (an ipBlock can
// match it), while the pod itself is never matched by an ipBlock.

const (
	// hostIP is the node address every pod is given in netpol-analyzer,
	// which refuses a pod without one. No probe uses it, so the engine's
	// node-to-own-pod shortcut never decides a verdict.
	hostIP = "192.0.2.1"
	// placeholderPodIP stands in for a pod without an address: the
	// engine refuses pods without podIPs, and judges them by labels.
	placeholderPodIP = "192.0.2.2"
	// unprobedPort is a port no probe uses.
	unprobedPort = 1
)

// world is what both engines are given.
type world = randnet.World

// probe is one connection to judge: src and dst are "namespace/pod" or an
// address.
type probe struct {
	src, dst string
	port     uint16
	proto    corev1.Protocol
}

func (p probe) String() string { return fmt.Sprintf("%s -> %s %d/%s", p.src, p.dst, p.port, p.proto) }

// result is a probe and both engines' verdicts.
type result struct {
	probe
	ours, theirs bool
	reason       string // ours, when denied
	ownNode      bool   // between a pod and its own node
}

// ownNode reports a probe between a pod and its own node.
func ownNode(src, dst evaluator.Peer) bool {
	return evaluator.OwnNode(src.Pod, dst) || evaluator.OwnNode(dst.Pod, src)
}

func (r result) String() string {
	return fmt.Sprintf("%s: flowpol %s, netpol-analyzer %s %s", r.probe, word(r.ours), word(r.theirs), r.reason)
}

func word(allowed bool) string {
	if allowed {
		return "allow"
	}
	return "deny"
}

func disagreements(rs []result) []result {
	var out []result
	for _, r := range rs {
		if r.ours != r.theirs {
			out = append(out, r)
		}
	}
	return out
}

// compare judges every probe of w on ports with this package's engine,
// built from ours, and with netpol-analyzer, built from theirs (the same
// world, but for the negative control).
func compare(a *npguard.Analyzer, ours, theirs *world, ports []uint16) (out []result, err error) {
	e, err := evaluator.New(namespaceLabels(ours), ours.Policies)
	if err != nil {
		return nil, fmt.Errorf("flowpol engine: %w", err)
	}
	podEngine, err := newTheirEngine(a, theirs, false)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, podEngine.Close()) }()
	addrEngine, err := newTheirEngine(a, theirs, true)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, addrEngine.Close()) }()
	ps := probes(ours, ports)
	verdicts, err := theirVerdicts(ps, podEngine, addrEngine)
	if err != nil {
		return nil, err
	}
	for i, pr := range ps {
		got := verdicts[i]
		src, dst := ourPeer(ours, pr.src), ourPeer(ours, pr.dst)
		if ownNode(src, dst) {
			got = true // by definition (see above)
		}
		v := e.Check(src, dst, pr.port, pr.proto)
		out = append(out, result{probe: pr, ours: v.Allowed, theirs: got, reason: v.Reason, ownNode: ownNode(src, dst)})
	}
	return out, nil
}

// theirVerdicts are netpol-analyzer's verdicts on the probes, in their
// order: the address probes from the address engine, the rest from the
// pod engine, each in one exchange.
func theirVerdicts(ps []probe, podEngine, addrEngine *npguard.Engine) ([]bool, error) {
	var podQ, addrQ []npguard.Query
	for _, pr := range ps {
		q := npguard.Query{Src: pr.src, Dst: pr.dst, Proto: string(pr.proto), Port: strconv.Itoa(int(pr.port))}
		if isAddr(pr.src) || isAddr(pr.dst) {
			addrQ = append(addrQ, q)
		} else {
			podQ = append(podQ, q)
		}
	}
	podV, err := podEngine.CheckAll(podQ)
	if err != nil {
		return nil, fmt.Errorf("netpol-analyzer: %w", err)
	}
	addrV, err := addrEngine.CheckAll(addrQ)
	if err != nil {
		return nil, fmt.Errorf("netpol-analyzer: %w", err)
	}
	out := make([]bool, 0, len(ps))
	for _, pr := range ps {
		if isAddr(pr.src) || isAddr(pr.dst) {
			out, addrV = append(out, addrV[0]), addrV[1:]
		} else {
			out, podV = append(out, podV[0]), podV[1:]
		}
	}
	return out, nil
}

// probes are every ordered pod pair (a pod with itself too) and every pod
// with every address both ways, on each port and protocol. hostNetwork
// pods are no end of a probe (see above).
func probes(w *world, ports []uint16) []probe {
	var pods []string
	for i := range w.Pods {
		if !w.Pods[i].Spec.HostNetwork {
			pods = append(pods, podKey(&w.Pods[i]))
		}
	}
	var ends [][2]string
	for _, p := range pods {
		for _, q := range pods {
			ends = append(ends, [2]string{p, q})
		}
		for _, a := range w.Addrs {
			ends = append(ends, [2]string{p, a.String()}, [2]string{a.String(), p})
		}
	}
	var out []probe
	for _, e := range ends {
		for _, port := range ports {
			for _, proto := range randnet.Protocols() {
				out = append(out, probe{src: e[0], dst: e[1], port: port, proto: proto})
			}
		}
	}
	return out
}

func podKey(p *corev1.Pod) string { return p.Namespace + "/" + p.Name }

// isAddr reports whether a probe's end is an address rather than a pod.
func isAddr(end string) bool { return !strings.Contains(end, "/") }

// namespaceLabels are the namespaces' labels with the name label the API
// server puts on every namespace. netpol-analyzer adds it when missing;
// flowpol takes the labels as given, so it is added here.
func namespaceLabels(w *world) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, ns := range w.Namespaces {
		l := map[string]string{corev1.LabelMetadataName: ns.Name}
		for k, v := range ns.Labels {
			l[k] = v
		}
		out[ns.Name] = l
	}
	return out
}

func ourPeer(w *world, s string) evaluator.Peer {
	for i := range w.Pods {
		p := &w.Pods[i]
		if podKey(p) == s {
			var ports []corev1.ContainerPort
			for _, c := range p.Spec.Containers {
				ports = append(ports, c.Ports...)
			}
			return evaluator.Peer{Pod: &evaluator.Pod{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels, Ports: ports, HostNetwork: p.Spec.HostNetwork, Node: p.Spec.NodeName}}
		}
	}
	a := netip.MustParseAddr(s)
	return evaluator.Peer{Addr: a, Node: w.NodeOf(a)}
}

// newTheirEngine loads w into netpol-analyzer. forAddrs builds the engine
// that judges the address probes (see theirPolicy).
func newTheirEngine(a *npguard.Analyzer, w *world, forAddrs bool) (*npguard.Engine, error) {
	pe, err := a.NewEngine()
	if err != nil {
		return nil, fmt.Errorf("netpol-analyzer: %w", err)
	}
	var objs []runtime.Object
	for i := range w.Namespaces {
		objs = append(objs, w.Namespaces[i].DeepCopy())
	}
	for i := range w.Pods {
		objs = append(objs, theirPod(&w.Pods[i]))
	}
	for i := range w.Policies {
		objs = append(objs, theirPolicy(&w.Policies[i], forAddrs))
	}
	for _, o := range objs {
		if err := pe.InsertObject(o); err != nil {
			return nil, errors.Join(fmt.Errorf("netpol-analyzer: insert %T: %w", o, err), pe.Close())
		}
	}
	return pe, nil
}

// theirPod is a pod as netpol-analyzer is given it: scheduled, with an
// address, and without owner references, so that the engine caches no
// verdict per owner (nor logs its cache hits) and judges each pod on its
// own labels.
func theirPod(p *corev1.Pod) *corev1.Pod {
	q := p.DeepCopy()
	q.OwnerReferences = nil
	q.Status.HostIP = hostIP
	if len(q.Status.PodIPs) == 0 {
		q.Status.PodIPs = []corev1.PodIP{{IP: placeholderPodIP}}
	}
	return q
}

// theirPolicy is a policy as netpol-analyzer is given it, its rule ports
// rewritten by theirPort. For the address probes a named egress port
// becomes unprobedPort: this package lets a named port match no address
// (documented), while netpol-analyzer fails the whole check with an error
// when a rule with a named port selects an address; a port no probe uses
// matches no probe, which is the same verdict.
func theirPolicy(np *networkingv1.NetworkPolicy, forAddrs bool) *networkingv1.NetworkPolicy {
	q := np.DeepCopy()
	for i := range q.Spec.Ingress {
		for j := range q.Spec.Ingress[i].Ports {
			q.Spec.Ingress[i].Ports[j] = theirPort(q.Spec.Ingress[i].Ports[j])
		}
	}
	for i := range q.Spec.Egress {
		for j := range q.Spec.Egress[i].Ports {
			p := theirPort(q.Spec.Egress[i].Ports[j])
			if forAddrs && p.Port.Type == intstr.String {
				n := intstr.FromInt32(unprobedPort)
				p.Port = &n
			}
			q.Spec.Egress[i].Ports[j] = p
		}
	}
	return q
}

// theirPort rewrites a rule port with a protocol and no number as that
// protocol's ports 1-65535, the same set by the API's definition
// ("If this field is not provided, this matches all port names and
// numbers" – of the port's protocol). netpol-analyzer v1.4.4 instead lets
// a port without a number match every protocol (ruleConnsContain returns
// true before looking at the protocol), which the upstream e2e test
// "should enforce ingress policy allowing any port traffic to a server on
// a specific protocol" shows to be wrong: UDP must stay denied when only
// TCP is allowed.
func theirPort(p networkingv1.NetworkPolicyPort) networkingv1.NetworkPolicyPort {
	if p.Port != nil {
		return p
	}
	lo := intstr.FromInt32(1)
	hi := int32(65535)
	p.Port, p.EndPort = &lo, &hi
	return p
}

// dumpWorld is w as a manifest: namespaces, pods and policies as YAML
// documents, the addresses in a comment.
func dumpWorld(w *world) string {
	var docs []string
	add := func(o any) {
		b, err := yaml.Marshal(o)
		if err != nil {
			docs = append(docs, "# "+err.Error()+"\n")
			return
		}
		docs = append(docs, string(b))
	}
	for i := range w.Namespaces {
		ns := w.Namespaces[i].DeepCopy()
		ns.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}
		add(ns)
	}
	for i := range w.Pods {
		p := w.Pods[i].DeepCopy()
		p.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
		add(p)
	}
	for i := range w.Policies {
		np := w.Policies[i].DeepCopy()
		np.TypeMeta = metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"}
		add(np)
	}
	addrs := []string{"none"}
	for i, a := range w.Addrs {
		if i == 0 {
			addrs = nil
		}
		addrs = append(addrs, a.String())
	}
	return "# addresses outside the pods: " + strings.Join(addrs, ", ") + "\n" + strings.Join(docs, "---\n")
}

// describe is the smallest failing world and its disagreements, for a
// failure message.
func describe(a *npguard.Analyzer, w *world, ports []uint16) string {
	rs, err := compare(a, w, w, ports)
	if err != nil {
		return fmt.Sprintf("%v\n%s", err, dumpWorld(w))
	}
	var lines []string
	for _, r := range disagreements(rs) {
		lines = append(lines, "  "+r.String())
	}
	return dumpWorld(w) + "disagreements:\n" + strings.Join(lines, "\n")
}
