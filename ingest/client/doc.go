// Package client talks to the aggregator over HTTP or HTTPS: it sends
// encoded batches (SendBatch), reads windows of the baseline (Window) and
// reports recommendation runs (Report). The agent ships with it, and the
// commands that read a baseline with --server read through it.
//
// A Client reads its bearer token file for every request, so a rotated
// token is used at once. A refusal is a *StatusError, which says whether
// sending again could help. A Client holds idle connections for reuse and
// is safe for concurrent use; it needs no privileges.
package client
