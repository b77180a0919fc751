// Package server is the aggregator side of in-cluster learning: the HTTP
// API that takes the agents' batches and serves the baseline.
//
// A Server authenticates requests (a bearer token from a TokenFile, or a
// verified client certificate), refuses malformed and oversized batches,
// and hands the rest to a Sink, which owns an aggregator.Learner: it adds
// the batches' records and commits them, many batches to a transaction,
// together with each agent's last sequence number, and only then
// acknowledges them; while one transaction commits, the next batches are
// added. A batch sent again after a timeout or a crash is therefore
// acknowledged without being counted twice. The Server also serves a
// window of the baseline as JSON (client.Client.Window reads it),
// /metrics, /healthz and /readyz.
//
// Nothing here needs privileges. A Sink must be Run; a Server lives as
// long as the http.Server that serves it.
package server
