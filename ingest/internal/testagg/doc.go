// Package testagg runs a real aggregator for the ingest packages' tests:
// a bbolt baseline in the test's directory, a learner on the example
// cluster, a sink and the HTTP server on 127.0.0.1, all stopped when the
// test ends. It also builds the records and batches the tests send.
package testagg
