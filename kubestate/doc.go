// Package kubestate follows the live cluster through client-go informers:
// Pods, Namespaces, Nodes, Services, EndpointSlices, ReplicaSets,
// Deployments, StatefulSets, DaemonSets, Jobs and CronJobs, each stripped
// by Transform to the fields enrichment reads.
//
// Resolver is the live cluster's resolve.Resolver. Its indexes follow the
// informers event by event: the informers' stores are indexed with
// cache.Indexers (pods by address and controller, nodes and Services by
// address, pods and Services by label, EndpointSlices by Service, pod and
// address, ReplicaSets by controller), and from them it keeps, per
// address, who holds it (with each pod's tenure, from its start to its
// deletion), per pod uid its end, per Service port its targets, the
// NodePorts, the cluster ranges, and per workload its facts (selector,
// pod label sets, named ports, DNS ports, overlaps). An event derives
// again only what it touches: a pod's addresses, workload and the
// Services that name or select it; a Service's targets and addresses; a
// controller's pods' workloads. Nothing is copied or rebuilt whole. What
// Place reads (who holds each address, each pod uid's end, the NodePorts,
// the cluster ranges) is split into shards by key hash; after each event
// the handlers publish a view of it through an atomic pointer, copying
// only the shards the event changed, and nobody changes a published view.
// Place loads the view, takes no lock, allocates nothing but new ends,
// and may be called from any goroutine while the handlers run; it sees
// each event whole or not at all. Deleted pods are kept for a
// grace period (5 minutes), so that a flow at time t resolves to the pod
// that held the address at t even when it arrives late; they are
// forgotten by a timer. Ends are numbered once for the Resolver's
// lifetime. A Resolver is built on a SharedInformerFactory before the
// factory starts, and answers once Synced reports its first events
// handled; it lives as long as the factory's informers.
//
// State hands the cluster out as inventories, for what needs all of it at
// once (the enforcer binding rules to addresses).
package kubestate
