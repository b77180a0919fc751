// Package evaluator decides, with the semantics of networking.k8s.io/v1
// NetworkPolicy and, around it, of ClusterNetworkPolicy's tiers, whether a
// connection between two peers is allowed: a pod and another pod, or a pod
// and an address outside the pods.
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
// pod; it matches nothing when the destination is an address.
//
// Node traffic: traffic between a pod and its own node (the node's address,
// or a hostNetwork pod on that node; the kubelet's probes, node-local
// agents) is always allowed, both ways, whatever the policies, as the
// NetworkPolicy API defines it and every implementation does; the
// generator writes no rule for it. A pod's own node is the Pod's Node, and
// an address is a node's when the Peer names the Node. Traffic between a
// pod and any other node is decided by ipBlocks like any address outside
// the pods, as the generator writes them for the node traffic it saw: one
// rule naming every node.
//
// Every namespace carries the kubernetes.io/metadata.name label, as the API
// server sets it, whether or not the labels given include it.
//
// ClusterNetworkPolicies (policy.networking.k8s.io/v1beta1, NewTiered) add
// two tiers around the NetworkPolicies, decided per direction as for them:
// the Admin tier's policies that select the pod, by priority (then name,
// where the API leaves equal priorities to the implementation), and their
// rules in order, decide first: the first rule that matches gives Accept
// or Deny, final, or Pass, which skips the rest of the tier. Then the
// NetworkPolicies, when any isolates the pod for that direction. Then the
// Baseline tier, the same way; what nothing decided is allowed. As for
// NetworkPolicy, hostNetwork pods are never selected, a pod and its own
// node are always allowed, and a pod may always reach itself. networks
// match addresses outside the pods; a nodes peer must select every node
// ({}), as node labels are not known here; domainNames match no address,
// as the names behind an address are not known either (an Accept of names
// allows nothing here).
//
// An Engine is immutable once built and safe for concurrent use.
package evaluator
