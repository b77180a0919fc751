package collector

import (
	"log/slog"
	"os"
	"time"
)

// Options tunes New. The zero value is ready to use.
type Options struct {
	// CgroupRoot is the cgroup2 mount the UDP programs attach to and pod
	// cgroups are found under; zero means /sys/fs/cgroup/unified when it
	// is a cgroup2 mount (hybrid hierarchy), else /sys/fs/cgroup.
	CgroupRoot string
	// Node names this node in records; zero means the host name.
	Node string
	// FlushInterval is how often repeats counted in the kernel are
	// emitted; zero means 5 s.
	FlushInterval time.Duration
	// FlowsMapSize bounds the kernel's flow and UDP maps (LRU); zero
	// means 65,536 entries each.
	FlowsMapSize int
	// RingBufferBytes sizes the ring buffer of new flows, a power of two
	// times the page size; zero means 1 MiB.
	RingBufferBytes int
	// TCPAttach forces one TCP attach point ("tp_btf/inet_sock_set_state",
	// "tracepoint/sock/inet_sock_set_state", or "kprobe/..."; see
	// Attached); zero means the first that works, in that order.
	TCPAttach string
	// KeepLoopback keeps flows over loopback addresses, which stay inside
	// one pod; zero drops them in the kernel.
	KeepLoopback bool
	// Logger receives what was attached; zero means slog.Default().
	Logger *slog.Logger
}

func (o *Options) setDefaults() {
	if o.CgroupRoot == "" {
		o.CgroupRoot = defaultCgroupRoot()
	}
	if o.Node == "" {
		o.Node, _ = os.Hostname() // an empty node name is allowed
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 5 * time.Second
	}
	if o.FlowsMapSize <= 0 {
		o.FlowsMapSize = 65536
	}
	if o.RingBufferBytes <= 0 {
		o.RingBufferBytes = 1 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}
