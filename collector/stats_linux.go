//go:build linux && (386 || amd64 || arm64)

package collector

import (
	"fmt"

	"github.com/flowpol/flowpol/bpf"
)

// Stats reads the collector's counters: the kernel's, summed over CPUs, and
// its own.
func (c *Collector) Stats() (Stats, error) {
	var s Stats
	m := c.coll.Maps[bpf.FlowsMapStats]
	for _, st := range []struct {
		key bpf.FlowsStat
		dst *uint64
	}{
		{bpf.FlowsStatSTAT_EVENTS, &s.Events}, {bpf.FlowsStatSTAT_LOST, &s.Lost},
		{bpf.FlowsStatSTAT_REPEATS, &s.Repeats}, {bpf.FlowsStatSTAT_REPLIES, &s.Replies},
		{bpf.FlowsStatSTAT_DNS, &s.DNS}, {bpf.FlowsStatSTAT_DNS_LOST, &s.DNSLost},
	} {
		var perCPU []uint64
		if err := m.Lookup(uint32(st.key), &perCPU); err != nil {
			return s, fmt.Errorf("read stat %d: %w", st.key, err)
		}
		for _, v := range perCPU {
			*st.dst += v
		}
	}
	for name, p := range c.coll.Programs {
		st, err := p.Stats()
		if err != nil {
			return s, fmt.Errorf("read program %s's run-time statistics: %w", name, err)
		}
		s.KernelRuns += st.RunCount
		s.KernelTime += st.Runtime
	}
	c.mu.Lock()
	s.Flushed, s.Recycled, s.Evicted = c.flushed, c.recycled, c.evicted
	c.mu.Unlock()
	return s, nil
}
