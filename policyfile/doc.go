// Package policyfile reads the NetworkPolicy files that check, diff,
// compile, topology and enforce take: a file, a directory searched
// recursively, or a stream. Every document is accounted for: a
// networking.k8s.io/v1 NetworkPolicy is decoded strictly (an unknown field
// is an error) and validated as the API server validates it; a kind in
// Ignored is listed as ignored; anything else (another apiVersion, a
// misspelled kind, a document that is not a Kubernetes object, broken YAML)
// is an error naming the file and line. A policy without a namespace is put
// in the default namespace, with a warning. With Options.Cilium, a
// cilium.io/v2 CiliumNetworkPolicy is read too (for diff --format cilium),
// decoded strictly and checked with Cilium's Sanitize. With
// Options.Cluster, a policy.networking.k8s.io/v1beta1 ClusterNetworkPolicy
// is read too (for check and diff), decoded strictly and checked as its
// CRD's schema checks it (tier, priority, one subject, actions, networks).
//
// It needs nothing but the files, and returns plain values the caller owns.
package policyfile
