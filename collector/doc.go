// Package collector captures flows on one node with eBPF and emits them as
// flow records, each attributed to the pod (cgroup, pod uid, container id,
// network namespace) that made or accepted it.
//
// TCP connections are seen when they are established, at both ends, through
// the inet_sock_set_state tracepoint (tp_btf where the kernel has BTF, else
// the classic tracepoint); a connection that never establishes is no flow.
// UDP flows are seen at their first datagram by cgroup_skb programs on the
// cgroup2 root, and a reply never becomes a flow of its own. The kernel
// de-duplicates: repeats of a flow (same cgroup, netns, addresses, server
// port, protocol and observing end) only bump a count in an LRU map, which
// the collector flushes periodically; new flows reach it at once through a
// ring buffer. Lost events and evictions are counted, never silent. DNS
// answers pods receive (UDP and TCP from port 53) reach it through the same
// ring buffer as the head of their payload, and are emitted as records of
// count 0 carrying the answer, once per pod and answer per half TTL.
//
// New needs root, or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN, on Linux; on
// other systems it returns ErrNotSupported. A Collector holds its programs
// attached until Close.
package collector
