// Package staged keeps the would-deny record of a staged policy set: the
// NetworkPolicies a recommendation proposes, evaluated against every
// delta the aggregator commits, but never enforced.
//
// A Tracker decides each edge of a delta under the staged set exactly as
// check does (check.Decider, the evaluator), with the workloads and
// cluster facts the deltas carry. The flows the set would deny are kept
// with their counts per bucket, as the baseline keeps them, so that a
// report equals what check reports offline for the same flows over the
// same window. Per policy it keeps when that version of it was staged,
// its first and last would-deny and their connections.
//
// Its state is a plain value: Observe returns the next state, encoded for
// the baseline (baseline.Delta.Attachments, in the same transaction as
// the delta), and Commit adopts it once the store has committed it; New
// reads it back. A changed staged set (Replace) starts the flows afresh;
// the policies whose content did not change keep their record.
//
// It is a pure package: no I/O, no clock but the one it is given.
package staged
