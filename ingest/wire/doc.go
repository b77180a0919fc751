// Package wire is what agents, the aggregator and the commands that read
// it say to each other over HTTP: the batch of flow records in its compact
// binary encoding, and the JSON of the API's answers, reports and windows.
//
// A Batch is one agent's numbered bundle of flow records (AppendBatch,
// DecodeBatch; a Decoder reuses memory and interns strings across
// batches). A malformed batch is a *BatchError naming the record and the
// field. Nothing here does I/O or needs privileges; the values it returns
// are plain and owned by the caller.
package wire
