package wire

import (
	"net/netip"
	"slices"
	"time"

	"github.com/flowpol/flowpol/topology"
)

// Window is a topology.Window as the read API sends it: the workloads as a
// list, since JSON objects are keyed by strings.
type Window struct {
	From      time.Time            `json:"from"`
	To        time.Time            `json:"to"`
	Spans     []topology.Span      `json:"resolution,omitempty"`
	Edges     []topology.EdgeStats `json:"edges"`
	Workloads []topology.Workload  `json:"workloads"`
	Cluster   topology.Cluster     `json:"cluster"`
	// Resolved is the window's DNS names and the addresses they resolved
	// to.
	Resolved map[string][]netip.Addr `json:"resolved,omitempty"`
}

// FromTopology is w as the read API sends it, its workloads sorted.
func FromTopology(w *topology.Window) Window {
	j := Window{From: w.From, To: w.To, Spans: w.Resolution, Edges: w.Edges, Cluster: w.Cluster, Resolved: w.Resolved}
	for _, wl := range w.Workloads {
		j.Workloads = append(j.Workloads, wl)
	}
	slices.SortFunc(j.Workloads, func(a, b topology.Workload) int { return a.Ref.Compare(b.Ref) })
	return j
}

// Topology is the window j carries.
func (j *Window) Topology() *topology.Window {
	w := &topology.Window{From: j.From, To: j.To, Resolution: j.Spans, Edges: j.Edges, Cluster: j.Cluster, Resolved: j.Resolved, Workloads: make(map[topology.WorkloadRef]topology.Workload, len(j.Workloads))}
	for _, wl := range j.Workloads {
		w.Workloads[wl.Ref] = wl
	}
	return w
}
