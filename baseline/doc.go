// Package baseline is the contract between what learns the cluster's
// traffic and where it is kept: a Store that applies a Delta (edges with
// their counts per time bucket, pods, nodes and processes, the workloads'
// selectors, and the senders' delivery marks) in one transaction, answers
// windows of it, keeps it bounded by a Retention, and reports its Status.
//
// The package holds the types only; implementations live in packages of
// their own (baseline/boltdb is the embedded default). Nothing here needs
// privileges, and every value it hands out belongs to the caller.
package baseline
