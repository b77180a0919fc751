// Package aggregator turns flow records into the topology baseline.
//
// A Resolver, built from the cluster's inventory, places each end of a flow:
// a workload (following ownerReferences from the pod to its top controller),
// a Service's backends and target port, a node or hostNetwork pod, the API
// server, an external address, or an end it cannot place, with the reason.
// A Learner aggregates resolved flows into edges with per-bucket counts and
// commits them to a Store in batches; Learner.Seal takes a batch out of it,
// so that one goroutine can commit the batch while another adds the next.
//
// The Store is a bbolt file: edges, their counts in time buckets (one minute
// by default), first and last seen, distinct pods and reporting nodes, and
// the workloads' selectors. Each batch is one transaction, so a crash loses
// at most the batch in flight and never corrupts the file. A Store holds the
// file's lock until Close; a second process waits Timeout and then fails.
package aggregator
