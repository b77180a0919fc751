// Package testpods builds, for tests, a small cluster of "pods" on this
// machine: each a network namespace with a veth on a bridge (in a node
// namespace of its own, so nothing touches the host's network), and a cgroup
// laid out as the kubelet lays it out (kubepods/burstable/pod<uid>/<container>)
// on the cgroup2 hierarchy. Processes started in a pod are put in its cgroup
// first, then enter its namespace.
//
// It needs root and Linux. A Node builds it for programs (the demo): it
// returns errors, is removed by Close, and Sweep removes what a killed
// process left behind, found by its name prefix. A Cluster is a Node for
// tests: it fails the test instead, and everything it creates is removed
// by t.Cleanup, also when a test fails.
package testpods
