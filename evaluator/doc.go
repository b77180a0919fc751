// Package evaluator decides, with the semantics of networking.k8s.io/v1
// NetworkPolicy, whether a connection between two peers is allowed: a pod
// and another pod, or a pod and an address outside the pods.
//
// A pod is isolated for a direction when any policy in its namespace
// selects it and has that direction in its policyTypes (Ingress always
// when policyTypes is empty, Egress when listed or when the policy has
// egress rules); an isolated pod allows what the union of those policies'
// rules allow. A connection is allowed when the source allows it out and
// the destination allows it in. A pod may always reach itself.
//
// What NetworkPolicy cannot govern is handled as the API defines it and as
// common implementations do: a hostNetwork pod is never isolated (its
// traffic is the node's), and an ipBlock matches addresses outside the pods
// only, never a pod's address. A named port is resolved on the destination
// pod; it matches nothing when the destination is an address. A node's
// address is an address like any other: Kubernetes lets the kubelet's
// probes reach a node's own pods whatever the policies, but which node a pod
// runs on is not the evaluator's to know, so traffic from a node is decided
// by ipBlocks, as the generator writes them for the node traffic it saw.
//
// Every namespace carries the kubernetes.io/metadata.name label, as the API
// server sets it, whether or not the labels given include it.
//
// An Engine is immutable once built and safe for concurrent use.
package evaluator
