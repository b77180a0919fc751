package resolve

import (
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/topology"
)

// EndID numbers an end; zero means none. A Resolver numbers each end once
// for its lifetime, so an edge keeps its ends' numbers.
type EndID uint32

// Target is one end of a flow: an end, the port it was reached on (for a
// destination: the target port, never a Service port) and, when one pod
// is known, its identity (never zero for a pod) and the node it runs on
// (empty when unknown or not scheduled).
type Target struct {
	End  EndID
	Port uint16
	Pod  uint64
	Node string
}

// Placement is where a Resolver puts a record's ends.
type Placement struct {
	Src  Target
	Dsts []Target
	// Unknown says that a newer cluster state may know an end this one
	// does not: an unknown pod uid, or an unknown address in a pod range.
	// A resolver of a fixed inventory never says so.
	Unknown bool
}

// Resolver places records' ends.
type Resolver interface {
	// Place resolves rec's ends into p, reusing p's slices: p.Dsts is valid
	// until the next call.
	Place(rec *flow.Record, p *Placement)
	// End returns the end an id stands for.
	End(id EndID) topology.End
	// Workloads returns what the generator needs of the workloads that
	// changed since version since (zero: all), and the current version.
	Workloads(since uint64) (map[topology.WorkloadRef]topology.Workload, uint64)
	// Cluster returns the cluster facts the generator needs.
	Cluster() topology.Cluster
}

// Prefetcher is a Resolver that can ask the processor, ahead of Place,
// for the memory Place will read for a record: a loop over records then
// waits for little of it. PrefetchIndex asks for where the record's pod
// uid and addresses are looked up; PrefetchEnds, called a while later,
// for what they are; Place, a while after that, finds both in the caches.
// Both are hints: they change nothing Place does.
type Prefetcher interface {
	Resolver
	PrefetchIndex(rec *flow.Record)
	PrefetchEnds(rec *flow.Record)
}
