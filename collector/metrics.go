package collector

import "github.com/prometheus/client_golang/prometheus"

// StatsFunc reads a collector's counters.
type StatsFunc func() (Stats, error)

// metrics exposes a collector's counters to Prometheus, read when scraped.
type metrics struct {
	stats StatsFunc
	descs [9]*prometheus.Desc
}

var _ prometheus.Collector = (*metrics)(nil)

// NewMetrics returns a Prometheus collector of the counters stats reads;
// register it on a registry of your own.
func NewMetrics(stats StatsFunc) prometheus.Collector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("flowpol_capture_"+name, help, nil, nil)
	}
	return &metrics{stats: stats, descs: [9]*prometheus.Desc{
		d("new_flows_total", "New flows the kernel sent through the ring buffer."),
		d("ring_lost_total", "New flows the ring buffer had no room for (a flush still reports them)."),
		d("repeats_total", "Repeated flows counted in the kernel."),
		d("udp_replies_total", "UDP replies recognised and not taken for flows."),
		d("flushed_records_total", "Records emitted by periodic flushes."),
		d("recycled_flows_total", "Flows evicted from the kernel's map and seen again between flushes; their earlier repeats were lost."),
		d("evicted_flows_total", "Flows gone from the kernel's map between two flushes: a sign it is too small (--map-size)."),
		d("dns_answers_total", "DNS answers pods received that the kernel sent through the ring buffer."),
		d("dns_lost_total", "DNS answers the ring buffer had no room for."),
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
	for i, v := range []uint64{s.Events, s.Lost, s.Repeats, s.Replies, s.Flushed, s.Recycled, s.Evicted, s.DNS, s.DNSLost} {
		ch <- prometheus.MustNewConstMetric(m.descs[i], prometheus.CounterValue, float64(v))
	}
}
