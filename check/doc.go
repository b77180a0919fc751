// Package check replays what was observed against a policy set: every edge
// of a baseline window, its ends stood in for by their workloads' pods (one
// per distinct label set) or addresses, is decided by the evaluator, and the
// flows the set would deny are returned with their evidence.
// ClusterNetworkPolicies are decided in their tiers around the
// NetworkPolicies (RunTiered).
//
// It is a pure function of its input, like the generator.
package check
