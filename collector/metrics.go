package collector

import "github.com/prometheus/client_golang/prometheus"

// StatsFunc reads a collector's counters.
type StatsFunc func() (Stats, error)

// metrics exposes a collector's counters to Prometheus, read when scraped.
type metrics struct {
	stats StatsFunc
	descs [11]*prometheus.Desc
}

var _ prometheus.Collector = (*metrics)(nil)

// NewMetrics returns a Prometheus collector of the counters stats reads;
// register it on a registry of your own.
func NewMetrics(stats StatsFunc) prometheus.Collector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("flowpol_capture_"+name, help, nil, nil)
	}
	return &metrics{stats: stats, descs: [11]*prometheus.Desc{
		d("new_flows_total", "New flows the kernel sent through the ring buffer."),
		d("ring_lost_total", "New flows the ring buffer had no room for (a flush still reports them)."),
		d("repeats_total", "Repeated flows counted in the kernel."),
		d("udp_replies_total", "UDP replies recognised and not taken for flows."),
		d("flushed_records_total", "Records emitted by periodic flushes."),
		d("recycled_flows_total", "Flows evicted from the kernel's map and seen again between flushes; their earlier repeats were lost."),
		d("evicted_flows_total", "Flows gone from the kernel's map between two flushes: a sign it is too small (--map-size)."),
		d("dns_answers_total", "DNS answers pods received that the kernel sent through the ring buffer."),
		d("dns_lost_total", "DNS answers the ring buffer had no room for."),
		d("kernel_runs_total", "Runs of the capture's kernel programs (0 unless sysctl kernel.bpf_stats_enabled=1)."),
		d("kernel_seconds_total", "Time the capture's kernel programs ran (0 unless sysctl kernel.bpf_stats_enabled=1)."),
	}}
}

func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range m.descs {
		ch <- d
	}
}

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	s, err := m.stats()
	if err != nil {
		for _, d := range m.descs {
			ch <- prometheus.NewInvalidMetric(d, err)
		}
		return
	}
	for i, v := range []float64{float64(s.Events), float64(s.Lost), float64(s.Repeats), float64(s.Replies), float64(s.Flushed),
		float64(s.Recycled), float64(s.Evicted), float64(s.DNS), float64(s.DNSLost), float64(s.KernelRuns), s.KernelTime.Seconds()} {
		ch <- prometheus.MustNewConstMetric(m.descs[i], prometheus.CounterValue, v)
	}
}
