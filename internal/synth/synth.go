package synth

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/inventory"
)

// maxPodsPerNode is how many pods a node's /24 pod CIDR holds here.
const maxPodsPerNode = 250

// maxNodes keeps the nodes' pod CIDRs inside 10.0.0.0/8.
const maxNodes = 2048

// Options shapes a synthetic cluster. The zero value is a cluster of 2,000
// workloads and 20,000 workload-to-workload edges whose traffic is the hour
// up to 2026-11-22T12:00:00Z.
type Options struct {
	// Seed selects the cluster and its traffic; zero is a seed like any
	// other.
	Seed int64
	// Workloads is the number of application workloads, besides CoreDNS;
	// zero means 2,000. One in ten is a StatefulSet, the rest Deployments,
	// each with 2 or 3 pods and a Service.
	Workloads int
	// Edges is the number of distinct client → server pairs of workloads,
	// at most half of all pairs; zero means ten per workload, or half of all
	// pairs if that is fewer. Every workload also looks up names
	// through kube-dns, and some call the API server or external addresses:
	// Cluster.Edges counts all of them.
	Edges int
	// Namespaces is how many namespaces the workloads are spread over,
	// besides default and kube-system; zero means 20.
	Namespaces int
	// Nodes is the number of nodes, at most 2,048; zero means one per 100
	// pods, at least 3. A node holds at most 250 pods.
	Nodes int
	// End is when the traffic ends; zero means 2026-11-22T12:00:00Z.
	End time.Time
	// Span is how long before End the traffic starts; zero means one hour.
	Span time.Duration
	// UnknownPorts is the share, 0 to 1, of the connections to a workload's
	// Service that dial a port the Service does not have: they are
	// recorded by the client only, and learning leaves them unresolved.
	UnknownPorts float64
}

func (o Options) withDefaults() Options {
	if o.Workloads == 0 {
		o.Workloads = 2000
	}
	if o.Edges == 0 {
		o.Edges = min(10*o.Workloads, o.Workloads*(o.Workloads-1)/2)
	}
	if o.Namespaces == 0 {
		o.Namespaces = 20
	}
	if o.Nodes == 0 {
		o.Nodes = max(3, (3*o.Workloads+2+99)/100)
	}
	if o.End.IsZero() {
		o.End = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	}
	if o.Span == 0 {
		o.Span = time.Hour
	}
	return o
}

func (o Options) check() error {
	switch {
	case o.Workloads < 2:
		return fmt.Errorf("workloads %d: need at least 2", o.Workloads)
	case o.Edges < 0 || o.Edges > o.Workloads*(o.Workloads-1)/2:
		return fmt.Errorf("edges %d: need 0 to %d for %d workloads", o.Edges, o.Workloads*(o.Workloads-1)/2, o.Workloads)
	case o.Namespaces < 1:
		return fmt.Errorf("namespaces %d: need at least 1", o.Namespaces)
	case o.Nodes < 1 || o.Nodes > maxNodes:
		return fmt.Errorf("nodes %d: need 1 to %d", o.Nodes, maxNodes)
	case o.Span <= 0:
		return fmt.Errorf("span %v: must be positive", o.Span)
	case o.UnknownPorts < 0 || o.UnknownPorts > 1:
		return fmt.Errorf("unknown ports %v: need 0 to 1", o.UnknownPorts)
	}
	return nil
}

// Cluster is a synthetic cluster: its inventory and the edges its traffic
// follows.
type Cluster struct {
	opts  Options
	inv   *inventory.Inventory
	edges []edge
	total float64 // the sum of the edges' weights
}

// endpoint is a pod, or the API server's node address: where it is, the
// node that observes it and, for a pod, what the collector there writes of
// a socket in it.
type endpoint struct {
	addr netip.Addr
	node string
	sock socketOf
}

// socketOf is what the collector writes of the pod a socket is in: its
// cgroup's id, the pod's uid and the container's id (from the cgroup's
// path) and its network namespace. The zero value is a socket in no pod.
type socketOf struct {
	cgroupID       uint64
	uid, container string
	netns          uint32
}

// workload is an application workload and what its traffic needs.
type workload struct {
	ns, name string
	stateful bool
	comm     string // its process name
	pid      uint32
	port     portSpec
	vip      netip.Addr // its Service's cluster IP
	pods     []endpoint
}

// portSpec is the port a workload serves on.
type portSpec struct {
	name        string
	svc, target uint16
	proto       flow.Proto
	named       bool // the Service names its target port
}

// edge is a client workload's traffic to one server.
type edge struct {
	client   *workload
	server   netip.AddrPort // names the server: its Service, or the external address
	dial     netip.AddrPort // what the client connects to; zero: a backend itself
	proto    flow.Proto
	target   uint16     // the port the backends accept on
	backends []endpoint // empty for an external server, which nobody observes
	comm     string     // the server's process name
	workload bool       // a call between application workloads
	cum      float64    // the weights of this edge and those before it
}

// New builds the cluster opts describe.
func New(opts Options) (*Cluster, error) {
	opts = opts.withDefaults()
	if err := opts.check(); err != nil {
		return nil, fmt.Errorf("synthetic cluster: %w", err)
	}
	b := newBuilder(opts)
	if err := b.build(); err != nil {
		return nil, fmt.Errorf("synthetic cluster: %w", err)
	}
	c := &Cluster{opts: opts, inv: b.inv, edges: b.edges}
	c.total = c.edges[len(c.edges)-1].cum // there is always DNS
	return c, nil
}

// Inventory returns the cluster's objects. It is shared with c: do not
// modify it.
func (c *Cluster) Inventory() *inventory.Inventory { return c.inv }

// Edges returns the number of distinct edges the traffic follows, as the
// aggregator counts them: workload pairs, DNS, API server and external.
func (c *Cluster) Edges() int { return len(c.edges) }

// Span returns when the traffic starts and ends: [from, to).
func (c *Cluster) Span() (from, to time.Time) {
	return c.opts.End.Add(-c.opts.Span), c.opts.End
}

// newRand returns the generator of one stream of choices: stream 1 builds
// the cluster, stream 2 its traffic.
func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream))
}

// HeldOut is the cluster shaped like the real ones learning did worse on,
// which the 10,000-workload benchmarks share: 10,000 workloads, 15,000
// workload edges, and a fifth of the client records to Services on ports
// they do not have, which stay unresolved.
func HeldOut() Options {
	return Options{Workloads: 10_000, Edges: 15_000, UnknownPorts: 0.2}
}

// BenchRecords is the number of flow records of the performance target,
// 10 million, or FLOWPOL_BENCH_RECORDS for a quicker run.
func BenchRecords(tb testing.TB) int {
	s := os.Getenv("FLOWPOL_BENCH_RECORDS")
	if s == "" {
		return 10_000_000
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		tb.Fatalf("FLOWPOL_BENCH_RECORDS=%q: want a positive number of records", s)
	}
	return n
}
