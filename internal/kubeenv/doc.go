// Package kubeenv runs a real etcd and kube-apiserver on 127.0.0.1 for
// tests, built from source through the Go module proxy: kube-apiserver from
// k8s.io/kubernetes at an exact version (in a scratch module whose replace
// lines pin every staging module it requires at v0.0.0 to the matching
// v0.X.Y tag), and etcd from go.etcd.io/etcd/server/v3 at the version
// k8s.io/kubernetes requires. The binaries are cached outside the
// repository, under the user cache directory, keyed by version.
//
// Build takes about ten minutes on two cores with a cold Go build cache and
// seconds with a warm one; `make kube-env` runs it ahead of the tests. An
// Env serves on free loopback ports with token authentication and
// AlwaysAllow authorization; there is no controller manager, scheduler or
// kubelet, so tests create ReplicaSets, pods and EndpointSlices themselves
// and set pod IPs through the status subresource.
package kubeenv
