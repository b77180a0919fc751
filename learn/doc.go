// Package learn turns flow records into baseline deltas.
//
// A Learner places each record's ends with a resolve.Resolver and
// aggregates the edges: connections per bucket of the store's finest
// width, as clients and as servers reported them (added with saturation),
// first and last moments, pods, nodes and processes. Take hands out what
// was aggregated since the last Take as a plain *baseline.Delta and starts
// afresh; the Learner has no batching policy and no store. Records whose
// ends a newer cluster state may know wait for it, within bounds.
//
// DNS answers (records with a dns field) are kept per client pod, address
// by address, for their TTL plus Options.DNSGrace: a later connection of
// the same pod to one of those addresses, when it is an external end,
// names its edge with the names that led there. The answers themselves go
// to the store too, for the addresses each name resolved to.
//
// A node (its address, or a hostNetwork pod) at one end and a pod that
// runs on it at the other make the own node (topology.KindOwnNode) one
// end, whichever node it is: NetworkPolicy always allows that traffic. A
// client-side record through a Service whose backends span several
// workloads is divided among them at Take, in proportion to what their
// servers reported in the same bucket. Where none did, the division is an
// estimate (Cell.Estimated): in proportion to what each backend's servers
// reported over the run so far, or evenly if one of them never reported.
//
// FromReader and Batcher are the batching policy for a run into a
// baseline.Store: a commit every BatchRecords records or BatchInterval, so
// that a store holds whole batches only. Nothing here needs privileges; a
// Learner and a Batcher are not safe for concurrent use, and a Delta,
// once taken, is the caller's.
package learn
