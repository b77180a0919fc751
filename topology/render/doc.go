// Package render draws a topology.Window as a picture: Graphviz DOT, a
// Mermaid flowchart, or one self-contained HTML page with an SVG laid out
// here (no scripts or styles fetched from anywhere, so it works offline).
//
// Workloads are grouped by namespace; hosts and the API server, external
// addresses and unresolved ends each form a group of their own and are
// drawn apart. An edge joins two ends and carries each port and protocol
// seen between them with its connection count. Edges listed in
// Options.Denied (what a policy set would deny, from check.Run) are drawn
// in red.
//
// It is a pure function of its input: no I/O but the writer, and the same
// window gives byte-identical output.
package render
