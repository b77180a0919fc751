// Package synth builds a synthetic cluster and its traffic, for benchmarks
// and tests of the learn and generate paths at scale.
//
// New builds, from a seed, an inventory (namespaces, nodes with pod CIDRs,
// Deployments with their ReplicaSets and pods, StatefulSets, Services with
// cluster IPs, CoreDNS behind kube-dns, and the kubernetes Service with its
// EndpointSlice) and a set of edges: workloads calling other workloads
// through their Service or straight at a pod, DNS lookups, calls to the API
// server and to external addresses. WriteFlows streams any number of flow
// records along those edges as JSON Lines, seen from the client's node and,
// where the server is in the cluster, from the server's, each naming the
// pod that observed it as a collector does (its uid, container id, cgroup
// and network namespace); WriteInventory writes
// the inventory as kubectl prints a List. Everything is deterministic: the
// same Options give byte-identical output. It needs no cluster and no
// privileges; a Cluster is immutable once built and safe for concurrent use.
package synth
