// Package rules compiles NetworkPolicies into the enforcer's native rules,
// in two steps.
//
// Compile turns a policy set into a Set: identities (a namespace or
// namespace selector with a pod selector), which identities each policy
// isolates for ingress or egress, and one flat rule per policy rule and
// peer: subject identity, peer identity or CIDR (with its exceptions) or
// every peer, and ports (numbers, ranges or names) with protocols, each with
// the policy and rule it came from. A Set knows no pods; it is what
// `flowpol compile` and `generate --format enforcer` write.
//
// Resolve binds a Set to the pods and namespaces of a cluster and yields
// Tables, the enforcer's maps: pod addresses to identity classes (pods the
// same selectors match and that name their ports alike share one), the
// policies' CIDRs to classes (an address outside the pods belongs to the
// class of the longest CIDR holding it, which decides every ipBlock and
// except at once), which classes are isolated per direction, and the
// allowed (self, other, direction, protocol, port prefix) entries. Tables
// decide a connection as the eBPF datapath does (Decide), and so as the
// evaluator package does: that is what the tests check. A hostNetwork pod is
// its node's address, as the evaluator treats node traffic.
//
// Both steps are pure functions of their input; the results are immutable.
package rules
