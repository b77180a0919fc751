// Package npguard runs np-guard's netpol-analyzer, the independent policy
// engine flowpol's tests compare against, in a process of its own: the
// command in engine/, a module of its own pinned to
// sigs.k8s.io/network-policy-api v0.1.5, the only version netpol-analyzer
// v1.4.4 compiles against, while flowpol's module requires v0.3.0 for
// ClusterNetworkPolicy. One module holds one version of a module; two
// processes hold two.
//
// Start builds the command with the go tool (once per source change: the
// binary is cached under the user cache directory, keyed by its sources
// and the Go version) and starts it for the life of the test. An Analyzer
// holds any number of Engines; each is netpol-analyzer's PolicyEngine,
// filled with InsertObject and asked with CheckIfAllowed, as the library
// would be. An Analyzer serves one call at a time.
package npguard
