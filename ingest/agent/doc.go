// Package agent is the node side of in-cluster learning. An Agent
// pre-aggregates the flow records it is given (repeats within a window
// merged, counts added), seals them into numbered batches in a Spool, and
// ships the oldest batch to the aggregator through a client.Client, one at
// a time and in order, retrying with exponential backoff until it is
// acknowledged. A token the aggregator refuses several times in a row is
// not sent again: Ship returns an error, or a daemon waits for the token
// file to change.
//
// A Spool is a bounded directory on the node: each batch a file written
// whole, so that neither an agent nor an aggregator restart loses what was
// captured; when it is full the oldest batches are dropped and counted. It
// also keeps the agent's id and next sequence number.
//
// Nothing here needs privileges beyond writing the spool's directory. An
// Agent and a Spool live as long as the process; Ship runs until its
// context ends.
package agent
