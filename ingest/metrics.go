package ingest

import (
	"github.com/prometheus/client_golang/prometheus"
)

// AgentMetrics are an agent's counters. Build them with NewAgentMetrics on
// a registry of your own.
type AgentMetrics struct {
	recordsRead     prometheus.Counter
	recordsLost     *prometheus.CounterVec
	batchesSpooled  prometheus.Counter
	batchesShipped  prometheus.Counter
	batchesRetried  prometheus.Counter
	batchesRejected prometheus.Counter
	spoolBatches    prometheus.Gauge
	spoolBytes      prometheus.Gauge
	shipSeconds     prometheus.Histogram
}

// NewAgentMetrics registers an agent's metrics on reg.
func NewAgentMetrics(reg prometheus.Registerer) *AgentMetrics {
	m := &AgentMetrics{
		recordsRead:     prometheus.NewCounter(prometheus.CounterOpts{Name: "flowpol_agent_records_read_total", Help: "Flow records the agent was given (flows seen on this node)."}),
		recordsLost:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowpol_agent_records_lost_total", Help: "Pre-aggregated records the agent dropped, by reason: spool_full (the oldest batches made room) or rejected (the aggregator refused the batch)."}, []string{"reason"}),
		batchesSpooled:  prometheus.NewCounter(prometheus.CounterOpts{Name: "flowpol_agent_batches_spooled_total", Help: "Batches sealed and written to the spool."}),
		batchesShipped:  prometheus.NewCounter(prometheus.CounterOpts{Name: "flowpol_agent_batches_shipped_total", Help: "Batches the aggregator acknowledged."}),
		batchesRetried:  prometheus.NewCounter(prometheus.CounterOpts{Name: "flowpol_agent_batches_retried_total", Help: "Attempts to ship a batch that failed and will be retried."}),
		batchesRejected: prometheus.NewCounter(prometheus.CounterOpts{Name: "flowpol_agent_batches_rejected_total", Help: "Batches the aggregator refused as malformed or too large; their records are lost."}),
		spoolBatches:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "flowpol_agent_spool_batches", Help: "Batches waiting in the spool."}),
		spoolBytes:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "flowpol_agent_spool_bytes", Help: "Bytes of the batches waiting in the spool."}),
		shipSeconds:     prometheus.NewHistogram(prometheus.HistogramOpts{Name: "flowpol_agent_ship_duration_seconds", Help: "Time from sending a batch to its acknowledgement.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}),
	}
	reg.MustRegister(m.recordsRead, m.recordsLost, m.batchesSpooled, m.batchesShipped, m.batchesRetried, m.batchesRejected,
		m.spoolBatches, m.spoolBytes, m.shipSeconds)
	return m
}

// AggregatorMetrics are the aggregator's counters. Build them with
// NewAggregatorMetrics on a registry of your own.
type AggregatorMetrics struct {
	batches        *prometheus.CounterVec
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
}

// NewAggregatorMetrics registers the aggregator's metrics on reg.
func NewAggregatorMetrics(reg prometheus.Registerer) *AggregatorMetrics {
	m := &AggregatorMetrics{
		batches:        prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowpol_aggregator_batches_total", Help: "Batches received, by result: accepted, duplicate (sent again; not counted twice), malformed, too_large, unauthorized, unavailable."}, []string{"result"}),
		records:        prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowpol_aggregator_records_total", Help: "Flow records accepted, by the node whose agent sent them."}, []string{"node"}),
		nodeLost:       prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "flowpol_aggregator_node_records_lost", Help: "Records each node's agent reports lost since it started, by reason: dropped (spool full, batch refused) or ring_buffer (new flows the capture's ring buffer had no room for)."}, []string{"node", "reason"}),
		batchSeconds:   prometheus.NewHistogram(prometheus.HistogramOpts{Name: "flowpol_aggregator_batch_duration_seconds", Help: "Time from receiving a batch to acknowledging it, its commit included.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
		commitSeconds:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "flowpol_aggregator_commit_duration_seconds", Help: "Time to commit a group of batches to the baseline.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
		unresolved:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowpol_aggregator_unresolved_ends_total", Help: "Flow ends enrichment could not place, by reason."}, []string{"reason"}),
		waited:         prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowpol_aggregator_enrichment_waits_total", Help: "Records that waited for the cluster state, by outcome: waited, still_unknown (stored unresolved after --max-wait), overflow (could not wait: too many waiting)."}, []string{"outcome"}),
		waiting:        prometheus.NewGauge(prometheus.GaugeOpts{Name: "flowpol_aggregator_waiting_records", Help: "Records waiting for the cluster state now."}),
		edges:          prometheus.NewGauge(prometheus.GaugeOpts{Name: "flowpol_aggregator_baseline_edges", Help: "Edges the baseline holds."}),
		dbBytes:        prometheus.NewGauge(prometheus.GaugeOpts{Name: "flowpol_aggregator_baseline_bytes", Help: "Size of the baseline file."}),
		windowSeconds:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "flowpol_aggregator_window_duration_seconds", Help: "Time to read a window of the baseline for the read API.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}),
		generate:       prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "flowpol_recommend_last", Help: "The last recommendation run reported: generate_seconds, policies, changes."}, []string{"figure"}),
		generateLastOK: prometheus.NewGauge(prometheus.GaugeOpts{Name: "flowpol_recommend_last_success_timestamp_seconds", Help: "When a recommendation run last reported success."}),
	}
	reg.MustRegister(m.batches, m.records, m.nodeLost, m.batchSeconds, m.commitSeconds, m.unresolved, m.waited, m.waiting,
		m.edges, m.dbBytes, m.windowSeconds, m.generate, m.generateLastOK)
	return m
}
