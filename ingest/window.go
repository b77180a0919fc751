package ingest

import (
	"slices"
	"time"

	"github.com/flowpol/flowpol/topology"
)

// windowJSON is a topology.Window as the read API sends it: the workloads
// as a list, since JSON objects are keyed by strings.
type windowJSON struct {
	From      time.Time            `json:"from"`
	To        time.Time            `json:"to"`
	Spans     []topology.Span      `json:"resolution,omitempty"`
	Edges     []topology.EdgeStats `json:"edges"`
	Workloads []topology.Workload  `json:"workloads"`
	Cluster   topology.Cluster     `json:"cluster"`
}

func toJSON(w *topology.Window) windowJSON {
	j := windowJSON{From: w.From, To: w.To, Spans: w.Resolution, Edges: w.Edges, Cluster: w.Cluster}
	for _, wl := range w.Workloads {
		j.Workloads = append(j.Workloads, wl)
	}
	slices.SortFunc(j.Workloads, func(a, b topology.Workload) int { return a.Ref.Compare(b.Ref) })
	return j
}

func (j *windowJSON) window() *topology.Window {
	w := &topology.Window{From: j.From, To: j.To, Resolution: j.Spans, Edges: j.Edges, Cluster: j.Cluster, Workloads: make(map[topology.WorkloadRef]topology.Workload, len(j.Workloads))}
	for _, wl := range j.Workloads {
		w.Workloads[wl.Ref] = wl
	}
	return w
}
