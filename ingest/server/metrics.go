package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowpol/flowpol/staged"
)

// AggregatorMetrics are the aggregator's counters. Build them with
// NewAggregatorMetrics on a registry of your own.
type AggregatorMetrics struct {
	batches        *prometheus.CounterVec
	uploads        prometheus.Gauge
	records        *prometheus.CounterVec
	nodeLost       *prometheus.GaugeVec
	batchSeconds   prometheus.Histogram
	commitSeconds  prometheus.Histogram
	unresolved     *prometheus.CounterVec
	waited         *prometheus.CounterVec
	waiting        prometheus.Gauge
	edges          prometheus.Gauge
	dbBytes        prometheus.Gauge
	windowSeconds  prometheus.Histogram
	generate       *prometheus.GaugeVec
	generateLastOK prometheus.Gauge
	// stagedWouldDeny are the connections the staged policies would
	// have denied.
	stagedWouldDeny *prometheus.CounterVec
}

// NewAggregatorMetrics registers the aggregator's metrics on reg.
func NewAggregatorMetrics(reg prometheus.Registerer) *AggregatorMetrics {
	m := &AggregatorMetrics{
		batches:         prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowpol_aggregator_batches_total", Help: "Batches received, by result: accepted, duplicate (sent again; not counted twice), malformed, too_large, unauthorized, unavailable, busy (too many uploads at once; sent again later), slow (the body arrived too slowly), failed."}, []string{"result"}),
		uploads:         prometheus.NewGauge(prometheus.GaugeOpts{Name: "flowpol_aggregator_uploads_in_progress", Help: "Request bodies being read now (at most --max-uploads)."}),
		records:         prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowpol_aggregator_records_total", Help: "Flow records accepted, by the node whose agent sent them."}, []string{"node"}),
		nodeLost:        prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "flowpol_aggregator_node_records_lost", Help: "Records each node's agent reports lost since it started, by reason: dropped (spool full, batch refused) or ring_buffer (new flows the capture's ring buffer had no room for)."}, []string{"node", "reason"}),
		batchSeconds:    prometheus.NewHistogram(prometheus.HistogramOpts{Name: "flowpol_aggregator_batch_duration_seconds", Help: "Time from receiving a batch to acknowledging it, its commit included.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
		commitSeconds:   prometheus.NewHistogram(prometheus.HistogramOpts{Name: "flowpol_aggregator_commit_duration_seconds", Help: "Time to commit a group of batches to the baseline.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
		unresolved:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowpol_aggregator_unresolved_ends_total", Help: "Flow ends enrichment could not place, by reason."}, []string{"reason"}),
		waited:          prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowpol_aggregator_enrichment_waits_total", Help: "Records that waited for the cluster state, by outcome: waited, still_unknown (stored unresolved after --max-wait), overflow (could not wait: too many waiting)."}, []string{"outcome"}),
		waiting:         prometheus.NewGauge(prometheus.GaugeOpts{Name: "flowpol_aggregator_waiting_records", Help: "Records waiting for the cluster state now."}),
		edges:           prometheus.NewGauge(prometheus.GaugeOpts{Name: "flowpol_aggregator_baseline_edges", Help: "Edges the baseline holds."}),
		dbBytes:         prometheus.NewGauge(prometheus.GaugeOpts{Name: "flowpol_aggregator_baseline_bytes", Help: "Size of the baseline file."}),
		windowSeconds:   prometheus.NewHistogram(prometheus.HistogramOpts{Name: "flowpol_aggregator_window_duration_seconds", Help: "Time to read a window of the baseline for the read API.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}),
		generate:        prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "flowpol_recommend_last", Help: "The last recommendation run reported: generate_seconds, policies, changes."}, []string{"figure"}),
		generateLastOK:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "flowpol_recommend_last_success_timestamp_seconds", Help: "When a recommendation run last reported success."}),
		stagedWouldDeny: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowpol_staged_would_deny_total", Help: "Connections committed that a staged policy would have denied, by policy (NAMESPACE/NAME) and direction."}, []string{"policy", "direction"}),
	}
	reg.MustRegister(m.stagedWouldDeny, m.batches, m.uploads, m.records, m.nodeLost, m.batchSeconds, m.commitSeconds, m.unresolved, m.waited, m.waiting,
		m.edges, m.dbBytes, m.windowSeconds, m.generate, m.generateLastOK)
	return m
}

// stagedCollector reports how long each staged policy has been clean, as
// of the moment of the scrape.
type stagedCollector struct {
	t    *staged.Tracker
	desc *prometheus.Desc
}

// NewStagedCollector is the flowpol_staged_clean_seconds gauge of the
// staged policies t tracks, read when scraped.
func NewStagedCollector(t *staged.Tracker) prometheus.Collector {
	return &stagedCollector{t: t, desc: prometheus.NewDesc("flowpol_staged_clean_seconds",
		"Seconds since a staged policy last would have denied a flow, or since it was staged if it never would.", []string{"policy"}, nil)}
}

func (c *stagedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *stagedCollector) Collect(ch chan<- prometheus.Metric) {
	r := c.t.Report()
	for _, p := range r.Policies {
		m, err := prometheus.NewConstMetric(c.desc, prometheus.GaugeValue, max(0, r.Now.Sub(p.CleanSince()).Seconds()), p.Policy)
		if err == nil { // one label, one value: it cannot fail
			ch <- m
		}
	}
}
