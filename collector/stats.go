package collector

import "time"

// Stats are a collector's counters since it started.
type Stats struct {
	Events   uint64 // new flows the kernel sent through the ring buffer
	Lost     uint64 // new flows the ring buffer had no room for; a flush still reports them
	Repeats  uint64 // repeats the kernel counted
	Replies  uint64 // UDP replies recognised and not taken for flows
	DNS      uint64 // DNS answers the kernel sent through the ring buffer
	DNSLost  uint64 // DNS answers the ring buffer had no room for: they are lost
	Flushed  uint64 // records emitted by flushes
	Recycled uint64 // flows evicted from the kernel's map and seen again between flushes; repeats counted before the eviction were lost
	Evicted  uint64 // flows gone from the kernel's map (full, least recently used first) between two flushes

	// KernelRuns and KernelTime are how often the capture's programs ran
	// and the time they took, from the kernel's run-time statistics: zero
	// unless they are on (sysctl kernel.bpf_stats_enabled=1), which costs
	// a little on every run.
	KernelRuns uint64
	KernelTime time.Duration
}
