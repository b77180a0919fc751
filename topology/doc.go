// Package topology is the model flowpol learns and generates from: the ends
// of a flow once resolved (a workload, a node, the API server, an external
// address, or an end that could not be resolved), the edges between them, the
// workloads' stable selectors, and a Window of the baseline with each edge's
// evidence.
//
// It holds plain values only: no I/O, no kernel or cluster access. The
// aggregator fills it and the generator reads it.
package topology
