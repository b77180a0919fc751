package agent

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are an agent's counters. Build them with NewMetrics on a
// registry of your own.
type Metrics struct {
	recordsRead     prometheus.Counter
	recordsLost     *prometheus.CounterVec
	batchesSpooled  prometheus.Counter
	batchesShipped  prometheus.Counter
	batchesRetried  prometheus.Counter
	batchesRejected prometheus.Counter
	spoolBatches    prometheus.Gauge
	spoolBytes      prometheus.Gauge
	shipSeconds     prometheus.Histogram
	authFailures    prometheus.Counter
	authBlocked     prometheus.Gauge
}

// NewMetrics registers an agent's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		recordsRead:     prometheus.NewCounter(prometheus.CounterOpts{Name: "flowpol_agent_records_read_total", Help: "Flow records the agent was given (flows seen on this node)."}),
		recordsLost:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flowpol_agent_records_lost_total", Help: "Pre-aggregated records the agent dropped, by reason: spool_full (the oldest batches made room) or rejected (the aggregator refused the batch)."}, []string{"reason"}),
		batchesSpooled:  prometheus.NewCounter(prometheus.CounterOpts{Name: "flowpol_agent_batches_spooled_total", Help: "Batches sealed and written to the spool."}),
		batchesShipped:  prometheus.NewCounter(prometheus.CounterOpts{Name: "flowpol_agent_batches_shipped_total", Help: "Batches the aggregator acknowledged."}),
		batchesRetried:  prometheus.NewCounter(prometheus.CounterOpts{Name: "flowpol_agent_batches_retried_total", Help: "Attempts to ship a batch that failed and will be retried."}),
		batchesRejected: prometheus.NewCounter(prometheus.CounterOpts{Name: "flowpol_agent_batches_rejected_total", Help: "Batches the aggregator refused as malformed or too large; their records are lost."}),
		spoolBatches:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "flowpol_agent_spool_batches", Help: "Batches waiting in the spool."}),
		spoolBytes:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "flowpol_agent_spool_bytes", Help: "Bytes of the batches waiting in the spool."}),
		authFailures:    prometheus.NewCounter(prometheus.CounterOpts{Name: "flowpol_agent_auth_failures_total", Help: "Times the aggregator refused the agent's token or certificate (401)."}),
		authBlocked:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "flowpol_agent_auth_blocked", Help: "1 while shipping waits for a new token, the aggregator having refused the same one several times in a row."}),
		shipSeconds:     prometheus.NewHistogram(prometheus.HistogramOpts{Name: "flowpol_agent_ship_duration_seconds", Help: "Time from sending a batch to its acknowledgement.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}),
	}
	reg.MustRegister(m.recordsRead, m.recordsLost, m.batchesSpooled, m.batchesShipped, m.batchesRetried, m.batchesRejected,
		m.spoolBatches, m.spoolBytes, m.shipSeconds, m.authFailures, m.authBlocked)
	return m
}
