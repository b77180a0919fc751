// Package server is the aggregator side of in-cluster learning: the HTTP
// API that takes the agents' batches and serves the baseline.
//
// A Server authenticates requests (a bearer token from a TokenFile, or a
// verified client certificate), refuses malformed and oversized batches,
// and hands the rest to a Sink, which owns a learn.Learner: it adds the
// batches' records and applies their delta to the baseline.Store, many
// batches to a transaction, together with each agent's last sequence
// number, and only then acknowledges them; while one delta is applied, the
// next batches are added. A batch sent again after a timeout or a crash is therefore
// acknowledged without being counted twice. The Server also serves a
// window of the baseline as JSON (client.Client.Window reads it),
// /metrics, /healthz and /readyz. With a staged.Tracker, the Sink decides
// each delta under the staged policies before applying it, and commits
// their record as the delta's attachment, in the same transaction; the
// Server serves it on /api/v1/staged.
//
// A hostile client holds little: a body must keep up with a minimum rate
// after a grace (else 408), buffers grow as bytes arrive, never to the
// size a request declares, at most Options.MaxUploads bodies are read at
// once (past it 503 with Retry-After), and a request refused before its
// body is read closes its connection. HTTPServer adds header and idle
// timeouts; Serve runs the listeners and returns the first that fails.
//
// Nothing here needs privileges. A Sink must be Run; a Server lives as
// long as the http.Server that serves it.
package server
