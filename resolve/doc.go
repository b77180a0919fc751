// Package resolve places the ends of flow records in a cluster: a
// workload (following ownerReferences from the pod to its top controller),
// a Service's backends and target port, a node or hostNetwork pod, the API
// server, an external address, or an end it cannot place, with the reason.
//
// A Resolver is the contract. Static, built by New from an inventory, is
// the package's own; a live cluster's resolver builds on the same blocks
// (TopWorkload, WorkloadSelector, StableSelector, SliceBackends,
// TargetPort, APIServerEndpoints, IsDNS, PodIdentity, Tenure, HoldsBetter,
// Outside), so that both place an end alike. Ends are numbered once for a
// resolver's lifetime, and a Static rebuilt from a newer inventory keeps
// the numbers. A Static is a Prefetcher too: a loop over many records
// asks it for the memory of their addresses ahead of placing them.
// Nothing here needs privileges; a Static is not safe for concurrent use.
package resolve
