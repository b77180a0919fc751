// Package ingest carries flow records from node agents to the aggregator
// over HTTP, and serves the baseline to the commands that read it.
//
// A Batch is one agent's numbered bundle of flow records in a compact
// binary encoding (AppendBatch, DecodeBatch). An Agent pre-aggregates the
// records it is given, seals them into batches in a Spool (a bounded
// directory on the node, so that neither an agent nor an aggregator restart
// loses what was captured) and ships the oldest batch to the aggregator
// with retries and exponential backoff, one at a time and in order.
//
// A Server authenticates agents (a bearer token, or a verified client
// certificate), refuses malformed and oversized batches, and hands the rest
// to a Sink, which owns a learn.Learner: it adds the batches' records and
// applies their delta to the baseline.Store, many batches to a
// transaction, together with each agent's last sequence number, and only
// then acknowledges them; while one delta is applied, the next batches are
// added. A batch
// sent again after a timeout or a crash is therefore acknowledged without
// being counted twice. The Server also serves a window of the baseline as
// JSON (Client.Window reads it), /metrics, /healthz and /readyz.
//
// Nothing here needs privileges. A Sink must be Run; a Server, Spool and
// Agent live until their context ends or they are closed.
package ingest
