package demo

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// workload is one of the app's pods and what owns it.
type workload struct {
	pod       string // the pod's short name: its namespace and interface are named after it
	namespace string // "" for the endpoint outside the cluster
	kind      string // Deployment or StatefulSet
	name      string // the controller's name, and its app label
	uid       string
	addr      netip.Addr
	port      uint16 // 0: a client only
	proto     string
	dnsName   string // the name it is found by
	role      string
}

// listen is where the workload's program listens.
func (w workload) listen() string { return netip.AddrPortFrom(w.addr, w.port).String() }

// target is the workload's name and port, for what the demo prints.
func (w workload) target() string {
	ref := w.pod
	if w.namespace != "" {
		ref = w.namespace + "/" + w.name
	}
	return fmt.Sprintf("%s:%d/%s", ref, w.port, w.proto)
}

// ref is the workload as flowpol names it.
func (w workload) ref() string { return w.namespace + "/" + w.kind + "/" + w.name }

const (
	// uidPrefix starts the uid of every demo pod: Sweep finds a killed
	// run's cgroups by it.
	uidPrefix = "de300000-0000-4000-8000-"
	// podCIDR is the demo node's pod range; the payments endpoint is on a
	// documentation address outside it.
	podCIDR      = "10.244.0.0/24"
	paymentsAddr = "203.0.113.10"
	nodeName     = "demo-node"
)

// app is the demo's app, the DNS server first.
func app() []workload {
	w := func(i int, ns, kind, name string, port uint16, proto, dnsName string) workload {
		return workload{pod: name, namespace: ns, kind: kind, name: name, uid: fmt.Sprintf("%s%012d", uidPrefix, i),
			addr: netip.AddrFrom4([4]byte{10, 244, 0, byte(10 + i)}), port: port, proto: proto, dnsName: dnsName, role: name}
	}
	list := []workload{
		w(0, "kube-system", "Deployment", "coredns", 53, "UDP", ""),
		w(1, "shop", "Deployment", "frontend", 8080, "TCP", "frontend.shop.svc.cluster.local"),
		w(2, "shop", "Deployment", "catalog", 8080, "TCP", "catalog.shop.svc.cluster.local"),
		w(3, "shop", "Deployment", "cart", 8080, "TCP", "cart.shop.svc.cluster.local"),
		w(4, "shop", "Deployment", "loadgen", 0, "", ""),
		w(5, "data", "StatefulSet", "postgres", 5432, "TCP", "postgres-0.postgres.data.svc.cluster.local"),
		w(6, "data", "Deployment", "redis", 6379, "TCP", "redis.data.svc.cluster.local"),
		{pod: "payments", addr: netip.MustParseAddr(paymentsAddr), port: 443, proto: "TCP", dnsName: "payments.example.com", role: "payments"},
	}
	list[0].role = "dns"
	return list
}

// find is the workload of a pod name.
func find(apps []workload, pod string) workload {
	for _, w := range apps {
		if w.pod == pod {
			return w
		}
	}
	panic("demo: no workload " + pod) // a typo in this package
}

// inventory is what `kubectl get ... -o yaml` would print for the app's
// cluster: namespaces, the node, and each workload's controller, pod and
// Service.
func inventory(apps []workload) string {
	var b strings.Builder
	b.WriteString("# The flowpol demo's cluster, as kubectl would print it.\napiVersion: v1\nkind: List\nitems:\n")
	namespaces := map[string]bool{}
	for _, w := range apps {
		if w.namespace != "" {
			namespaces[w.namespace] = true
		}
	}
	names := make([]string, 0, len(namespaces))
	for ns := range namespaces {
		names = append(names, ns)
	}
	sort.Strings(names)
	for _, ns := range names {
		fmt.Fprintf(&b, "- {apiVersion: v1, kind: Namespace, metadata: {name: %s, labels: {kubernetes.io/metadata.name: %s}}}\n", ns, ns)
	}
	fmt.Fprintf(&b, "- apiVersion: v1\n  kind: Node\n  metadata: {name: %s}\n  spec: {podCIDR: %s, podCIDRs: [%s]}\n  status: {addresses: [{type: InternalIP, address: 192.168.100.10}]}\n", nodeName, podCIDR, podCIDR)
	for _, w := range apps {
		if w.namespace != "" {
			writeWorkload(&b, w)
		}
	}
	return b.String()
}

func labelKey(w workload) string {
	if w.namespace == "kube-system" {
		return "k8s-app: kube-dns"
	}
	return "app: " + w.name
}

func writeWorkload(b *strings.Builder, w workload) {
	labels := labelKey(w)
	ports := ""
	if w.port != 0 {
		ports = fmt.Sprintf(", ports: [{name: p%d, containerPort: %d, protocol: %s}]", w.port, w.port, w.proto)
	}
	containers := fmt.Sprintf("[{name: %s, image: flowpol-demo/%s%s}]", w.name, w.name, ports)
	tmpl := fmt.Sprintf("{selector: {matchLabels: {%s}}, template: {metadata: {labels: {%s}}, spec: {containers: %s}}}", labels, labels, containers)
	fmt.Fprintf(b, "- apiVersion: apps/v1\n  kind: %s\n  metadata: {name: %s, namespace: %s, uid: %s}\n  spec: %s\n", w.kind, w.name, w.namespace, ctrlUID(w, 'c'), tmpl)
	owner, ownerName, ownerUID := w.kind, w.name, ctrlUID(w, 'c')
	pod, podLabels := w.name+"-0", labels+", statefulset.kubernetes.io/pod-name: "+w.name+"-0"
	if w.kind == "Deployment" {
		const hash = "5d9c8b7f6"
		owner, ownerName, ownerUID = "ReplicaSet", w.name+"-"+hash, ctrlUID(w, 'b')
		pod, podLabels = ownerName+"-x7k2p", labels+", pod-template-hash: "+hash
		fmt.Fprintf(b, "- apiVersion: apps/v1\n  kind: ReplicaSet\n  metadata:\n    name: %s\n    namespace: %s\n    uid: %s\n    ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: %s, uid: %s, controller: true}]\n  spec: %s\n",
			ownerName, w.namespace, ownerUID, w.name, ctrlUID(w, 'c'), tmpl)
	}
	fmt.Fprintf(b, "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: %s\n    namespace: %s\n    uid: %s\n    labels: {%s}\n    ownerReferences: [{apiVersion: apps/v1, kind: %s, name: %s, uid: %s, controller: true}]\n  spec: {nodeName: %s, containers: %s}\n  status: {phase: Running, podIP: %s, podIPs: [{ip: %s}]}\n",
		pod, w.namespace, w.uid, podLabels, owner, ownerName, ownerUID, nodeName, containers, w.addr, w.addr)
	writeService(b, w, labels)
}

// writeService writes the workload's Service: headless (its name resolves
// to the pods, which the demo's DNS server answers), but kube-dns, which
// has the usual cluster address.
func writeService(b *strings.Builder, w workload, labels string) {
	if w.port == 0 {
		return
	}
	name, clusterIP := w.name, "None"
	if w.namespace == "kube-system" {
		name, clusterIP = "kube-dns", "10.96.0.10"
	}
	fmt.Fprintf(b, "- apiVersion: v1\n  kind: Service\n  metadata: {name: %s, namespace: %s}\n  spec: {clusterIP: %s, selector: {%s}, ports: [{port: %d, targetPort: %d, protocol: %s}]}\n",
		name, w.namespace, clusterIP, labels, w.port, w.port, w.proto)
}

// ctrlUID is the uid of a workload's controller (c) or ReplicaSet (b):
// its pod's, with the eighth digit changed.
func ctrlUID(w workload, kind byte) string {
	return w.uid[:7] + string(kind) + w.uid[8:]
}
