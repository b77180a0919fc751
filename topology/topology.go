package topology

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flowpol/flowpol/flow"
)

// Kind says what an End is.
type Kind uint8

// End kinds, in the order they sort.
const (
	KindWorkload   Kind = iota + 1 // a workload's pods
	KindHost                       // a node's address: the node itself or a hostNetwork pod
	KindAPIServer                  // the cluster's API server, reached through the kubernetes Service
	KindExternal                   // an address outside the cluster
	KindUnresolved                 // an address flowpol could not place; Reason says why
	// KindOwnNode is the node a pod runs on, seen from the pod: the
	// kubelet's probes, node-local agents. NetworkPolicy always allows
	// traffic between a pod and its own node, so it needs no rule, and
	// which node it was does not matter: the end has no fields.
	KindOwnNode
)

var kindNames = [...]string{KindWorkload: "workload", KindHost: "host", KindAPIServer: "apiserver", KindExternal: "external", KindUnresolved: "unresolved", KindOwnNode: "own-node"}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// WorkloadRef names a workload: the top controller of a pod (Deployment,
// StatefulSet, DaemonSet, CronJob, Job, ReplicaSet, ...) or the pod itself
// when it has none.
type WorkloadRef struct {
	Namespace string `json:"namespace"`
	Kind      string `json:"kind"`
	Name      string `json:"name"`
}

func (w WorkloadRef) String() string { return w.Namespace + "/" + w.Kind + "/" + w.Name }

// Compare orders workload references by namespace, kind and name.
func (w WorkloadRef) Compare(o WorkloadRef) int {
	if c := strings.Compare(w.Namespace, o.Namespace); c != 0 {
		return c
	}
	if c := strings.Compare(w.Kind, o.Kind); c != 0 {
		return c
	}
	return strings.Compare(w.Name, o.Name)
}

// End is one resolved end of a flow. It is comparable and can key a map.
type End struct {
	Kind     Kind        `json:"kind"`
	Workload WorkloadRef `json:"workload"`         // KindWorkload
	Node     string      `json:"node,omitempty"`   // KindHost: the node that has the address, when known
	Addr     netip.Addr  `json:"addr"`             // KindHost, KindExternal, KindUnresolved
	Reason   Reason      `json:"reason,omitempty"` // KindUnresolved
}

// Reason says why an end is unresolved. It is stored as its number: a
// new reason takes a new number, and rewording one changes no stored key.
type Reason uint8

// Reasons an end is unresolved.
const (
	ReasonNone               Reason = iota
	ReasonUnknownClusterAddr        // an address in a cluster range that no pod, node or Service holds
	ReasonNoServicePort             // a Service address on a port the Service does not have
	ReasonNoBackends                // a Service port with no backends
	ReasonServiceAsSource           // a Service address as the source of a flow
)

var reasonText = [...]string{
	ReasonNone:               "",
	ReasonUnknownClusterAddr: "no pod or service has this cluster address",
	ReasonNoServicePort:      "service has no such port",
	ReasonNoBackends:         "service has no backends",
	ReasonServiceAsSource:    "service address as source",
}

func (r Reason) String() string {
	if int(r) < len(reasonText) {
		return reasonText[r]
	}
	return fmt.Sprintf("Reason(%d)", uint8(r))
}

// MarshalText writes the reason as its text, for JSON.
func (r Reason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a reason's text.
func (r *Reason) UnmarshalText(b []byte) error {
	for i, t := range reasonText {
		if t == string(b) {
			*r = Reason(i)
			return nil
		}
	}
	return fmt.Errorf("unknown unresolved reason %q", b)
}

// String is the end's stable text form, used in keys and reports.
func (e End) String() string {
	switch e.Kind {
	case KindWorkload:
		return e.Workload.String()
	case KindHost:
		return "host/" + e.Node + "/" + e.Addr.String()
	case KindAPIServer:
		return "apiserver"
	case KindOwnNode:
		return "own-node"
	case KindExternal:
		return "external/" + e.Addr.String()
	case KindUnresolved:
		return "unresolved/" + e.Addr.String() + " (" + e.Reason.String() + ")"
	}
	return e.Kind.String()
}

// Compare orders ends by kind, then by their fields. Each part is
// compared only when those before it are equal: sorting compares ends
// often, and most differ in their kind or workload.
func (e End) Compare(o End) int {
	if c := cmp.Compare(e.Kind, o.Kind); c != 0 {
		return c
	}
	if c := e.Workload.Compare(o.Workload); c != 0 {
		return c
	}
	if c := strings.Compare(e.Node, o.Node); c != 0 {
		return c
	}
	if c := e.Addr.Compare(o.Addr); c != 0 {
		return c
	}
	if e.Reason == o.Reason {
		return 0
	}
	return strings.Compare(e.Reason.String(), o.Reason.String())
}

// Edge is client → server on the server's port: for a pod, the target port
// the connection reached, never a Service port.
type Edge struct {
	Src   End        `json:"src"`
	Dst   End        `json:"dst"`
	Port  uint16     `json:"port"`
	Proto flow.Proto `json:"proto"`
}

func (e Edge) String() string {
	return fmt.Sprintf("%s -> %s:%d/%s", e.Src, e.Dst, e.Port, e.Proto)
}

// Compare orders edges by source, destination, protocol and port.
func (e Edge) Compare(o Edge) int {
	if c := e.Src.Compare(o.Src); c != 0 {
		return c
	}
	if c := e.Dst.Compare(o.Dst); c != 0 {
		return c
	}
	return cmp.Or(cmp.Compare(e.Proto, o.Proto), cmp.Compare(e.Port, o.Port))
}

// PortProto is a port with its protocol.
type PortProto struct {
	Port  uint16     `json:"port"`
	Proto flow.Proto `json:"proto"`
}

// Workload is what the generator needs to know of a workload.
type Workload struct {
	Ref WorkloadRef `json:"ref"`
	// Selector selects the workload's pods by stable labels only; nil when
	// it has none, and then no policy can select it.
	Selector *metav1.LabelSelector `json:"selector,omitempty"`
	// DNSPorts are the target ports of the kube-dns Service when the
	// workload's pods are its backends.
	DNSPorts []PortProto `json:"dns_ports,omitempty"`
	// Overlaps are the other workloads whose pods the selector also
	// selects: they would get this workload's rules too.
	Overlaps []WorkloadRef `json:"overlaps,omitempty"`
	// PodLabels are the distinct label sets of its pods, and Ports their
	// named container ports: what a policy evaluator needs to stand in for
	// them.
	PodLabels []map[string]string `json:"pod_labels,omitempty"`
	Ports     []ContainerPort     `json:"ports,omitempty"`
	// LoadBalancers are the LoadBalancer and NodePort Services whose
	// backends the workload's pods are, per target port: ingress from
	// outside the cluster through them is allowed as the Service lets it
	// in, not only from the addresses seen.
	LoadBalancers []LoadBalancer `json:"load_balancers,omitempty"`
}

// LoadBalancer is a LoadBalancer or NodePort Service as its backends see
// it on one target port.
type LoadBalancer struct {
	// Service is namespace/name; Type LoadBalancer or NodePort.
	Service string    `json:"service"`
	Type    string    `json:"type"`
	Port    PortProto `json:"port"` // the target port
	// Local is externalTrafficPolicy: Local: the client's address is
	// kept; with Cluster it is a node's (SNAT).
	Local bool `json:"local,omitempty"`
	// SourceRanges are loadBalancerSourceRanges: the only clients let in,
	// when set.
	SourceRanges []netip.Prefix `json:"source_ranges,omitempty"`
}

// ContainerPort is a named container port.
type ContainerPort struct {
	Name  string     `json:"name"`
	Port  uint16     `json:"port"`
	Proto flow.Proto `json:"proto"`
}

// Cluster is what the generator needs to know of the cluster beyond its
// workloads.
type Cluster struct {
	// APIServer are the addresses and ports behind the kubernetes Service.
	APIServer []netip.AddrPort `json:"apiserver,omitempty"`
	// Namespaces are the namespaces' labels.
	Namespaces map[string]map[string]string `json:"namespaces,omitempty"`
	// Nodes are the nodes' internal and external addresses, by node name:
	// a rule for a node (or a hostNetwork pod) names them all, so that a
	// pod rescheduled to another node, or a hostNetwork DaemonSet reached
	// on another node, is still allowed.
	Nodes map[string][]netip.Addr `json:"nodes,omitempty"`
	// Ranges are the pod and service ranges (the nodes' pod CIDRs and
	// the learner's --cluster-cidr): what "from outside the cluster"
	// excepts.
	Ranges []netip.Prefix `json:"ranges,omitempty"`
	// Batch are the CronJobs and the Jobs no CronJob owns, with when they
	// last ran, whether or not they have pods: a run outside the window
	// leaves traffic the window cannot show. Sorted by workload.
	Batch []BatchRun `json:"batch,omitempty"`
}

// BatchRun is a CronJob's or a Job's last run.
type BatchRun struct {
	Ref WorkloadRef `json:"ref"`
	// Schedule is a CronJob's schedule; empty for a Job.
	Schedule string `json:"schedule,omitempty"`
	// Last is a CronJob's status.lastScheduleTime, or a Job's
	// completionTime (its startTime while it has none); zero when it never
	// ran.
	Last time.Time `json:"last,omitzero"`
	// Active says a run is under way.
	Active bool `json:"active,omitempty"`
}

// NodeAddrs are every node's addresses, sorted, each once.
func (c Cluster) NodeAddrs() []netip.Addr {
	var out []netip.Addr
	for _, as := range c.Nodes {
		out = append(out, as...)
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}

// EdgeStats is an edge with its evidence in a window.
type EdgeStats struct {
	Edge
	// Count is the number of connections in the window: per time bucket, the
	// larger of what clients and servers reported, so a connection seen from
	// both ends counts once.
	Count uint64
	// Estimated is, of Count, the connections that rest on an estimated
	// split: a count through a Service whose backends span several
	// workloads, divided among them when no server reported in the bucket.
	// Per bucket it is the estimated connections up to the excess of the
	// clients' count over the servers' (none when the servers reported as
	// many or more): what the servers did report is exact.
	Estimated uint64 `json:",omitempty"`
	// First and Last are when it was first and last seen in the window.
	First, Last time.Time
	// SrcPods and DstPods count the distinct pods seen at each end (over the
	// whole baseline); Nodes are the nodes that reported the edge.
	SrcPods, DstPods int
	Nodes            []string
	// SrcComms and DstComms are the process names the observers recorded
	// at each end.
	SrcComms, DstComms []string
	// Names are the DNS names whose answers, received by the client's pod
	// before it connected, led it to the destination address; sorted.
	Names []string
	// Days are the UTC days (unix seconds / 86400) with traffic in the
	// window, sorted: per block of buckets the store keeps, the days of its
	// first and last moment seen, exact while a block spans no more than
	// a day (the default tiers' blocks span an hour and a day).
	Days []int64 `json:"days,omitempty"`
}

// Window is a slice of the baseline: the edges seen in [From, To), sorted,
// with the workloads and cluster facts they refer to.
type Window struct {
	From, To time.Time
	// Resolution says, oldest first, which bucket width answered each part
	// of [From, To); empty when the store keeps one width.
	Resolution []Span
	Edges      []EdgeStats
	Workloads  map[WorkloadRef]Workload
	Cluster    Cluster
	// Resolved are, for each DNS name some client received an answer for
	// in the window, the addresses it resolved to, sorted: more than its
	// edges show when the client connected to only some of them.
	Resolved map[string][]netip.Addr
}

// Span is a part of a window answered at one bucket width.
type Span struct {
	From, To time.Time
	Bucket   time.Duration
}
