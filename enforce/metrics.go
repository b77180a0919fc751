package enforce

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Stats are the datapath's counters.
type Stats struct {
	New       uint64 // connections decided
	Tracked   uint64 // packets of tracked connections
	Dropped   uint64 // packets dropped
	Audited   uint64 // packets that would have been dropped
	Redecided uint64 // tracked connections decided again after an update
	Lost      uint64 // verdicts the ring buffer had no room for
}

// Metrics count verdicts per policy and rule, and expose the datapath's
// counters when scraped. Build it with NewMetrics on a registry of your own.
type Metrics struct {
	verdicts *prometheus.CounterVec
	stats    func() (Stats, error)
	descs    [6]*prometheus.Desc
}

var _ prometheus.Collector = (*Metrics)(nil)

// NewMetrics registers the enforcer's metrics on reg; stats reads the
// datapath's counters.
func NewMetrics(reg prometheus.Registerer, stats func() (Stats, error)) (*Metrics, error) {
	m := &Metrics{stats: stats, verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "flowpol_enforce_verdicts_total",
		Help: "Connections decided, by verdict (allow, deny, cut), mode (audit true or false), direction, policy and rule id (0: none; own-node: between a pod and its own node).",
	}, []string{"verdict", "audit", "direction", "policy", "rule"})}
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("flowpol_enforce_"+name, help, nil, nil)
	}
	m.descs = [6]*prometheus.Desc{
		d("connections_total", "Connections decided by the datapath."),
		d("tracked_packets_total", "Packets of tracked connections."),
		d("dropped_packets_total", "Packets dropped."),
		d("audited_packets_total", "Packets that enforce mode would have dropped."),
		d("redecided_total", "Tracked connections decided again after a rule update."),
		d("verdicts_lost_total", "Verdicts the ring buffer had no room for."),
	}
	for _, c := range []prometheus.Collector{m.verdicts, m} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Observe counts a verdict.
func (m *Metrics) Observe(v Verdict) {
	rule := "0"
	switch {
	case v.OwnNode:
		rule = "own-node"
	case v.Rule != nil:
		rule = strconv.Itoa(v.Rule.ID)
	}
	m.verdicts.WithLabelValues(v.Kind.String(), strconv.FormatBool(v.Audit), string(v.Direction), v.Policy, rule).Inc()
}

func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range m.descs {
		ch <- d
	}
}

func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	s, err := m.stats()
	if err != nil {
		for _, d := range m.descs {
			ch <- prometheus.NewInvalidMetric(d, err)
		}
		return
	}
	for i, v := range []uint64{s.New, s.Tracked, s.Dropped, s.Audited, s.Redecided, s.Lost} {
		ch <- prometheus.MustNewConstMetric(m.descs[i], prometheus.CounterValue, float64(v))
	}
}
