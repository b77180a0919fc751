// Package generator turns a window of the baseline into
// networking.k8s.io/v1 NetworkPolicies: one per workload seen in the window,
// isolating it for ingress and egress, and allowing exactly the peers and
// target ports it was seen to use, with DNS to the cluster's DNS pods and the
// evidence for each rule in annotations. GenerateCilium writes the same
// rules, read from the window the same way, as cilium.io/v2
// CiliumNetworkPolicies, with Cilium's entities for nodes and the API
// server and DNS names for outside addresses reached through them.
// GenerateCluster writes cluster-wide guardrails for the namespaces that
// get policies, as policy.networking.k8s.io/v1beta1 ClusterNetworkPolicies:
// DNS accepted and the cloud metadata endpoint denied but to the workloads
// seen using it (Admin tier), and a default deny (Baseline tier).
//
// It is a pure function of its input: no kernel, cluster or file access
// except in Write, and the same window always gives byte-identical output.
package generator
