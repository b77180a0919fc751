package ui

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/flowpol/flowpol/check"
	"github.com/flowpol/flowpol/overrides"
	"github.com/flowpol/flowpol/topology"
)

// Model is what the page draws: the window's ends and edges, each edge
// with its evidence and whether the overrides file lets it be allowed.
type Model struct {
	From          time.Time   `json:"from"`
	To            time.Time   `json:"to"`
	OverridesPath string      `json:"overrides"`
	HavePolicies  bool        `json:"havePolicies"`
	Nodes         []Node      `json:"nodes"`
	Edges         []Edge      `json:"edges"`
	Allow         []FileAllow `json:"allow"`
}

// Node is one end: a workload, or a host, the API server, an external or
// an unresolved address.
type Node struct {
	ID string `json:"id"`
	// Kind is the end's kind (workload, host, apiserver, external,
	// unresolved); Group the namespace of a workload, else the kind.
	Kind     string `json:"kind"`
	Group    string `json:"group"`
	Workload string `json:"workloadKind,omitempty"`
	Name     string `json:"name"`
	// Selector is a workload's labels, as the generator would select its
	// pods by; Ambiguous when it has none or they select other workloads
	// too (Overlaps), and a person should choose.
	Selector  map[string]string `json:"selector,omitempty"`
	Ambiguous bool              `json:"ambiguous,omitempty"`
	Overlaps  []string          `json:"overlaps,omitempty"`
}

// Edge is one observed edge.
type Edge struct {
	ID int `json:"id"`
	// Label is the edge as its box is named: "SRC -> DST PORT/PROTO".
	Label    string    `json:"label"`
	Src      string    `json:"src"`
	Dst      string    `json:"dst"`
	Port     uint16    `json:"port"`
	Proto    string    `json:"proto"`
	Count    uint64    `json:"count"`
	First    time.Time `json:"first"`
	Last     time.Time `json:"last"`
	SrcPods  int       `json:"srcPods"`
	DstPods  int       `json:"dstPods"`
	Nodes    []string  `json:"nodes"`
	SrcComms []string  `json:"srcComms"`
	DstComms []string  `json:"dstComms"`
	// ExcludedBy is the overrides file's line that excludes the edge, ""
	// when none does; Exact when that entry names only this edge, so that
	// the page may allow it again. Fixed when no entry can name it (the API
	// server), or when a broader entry excludes it.
	ExcludedBy string `json:"excludedBy,omitempty"`
	Exact      bool   `json:"exact,omitempty"`
	Fixed      string `json:"fixed,omitempty"`
	// Denied says why the policies there would deny the edge.
	Denied string `json:"denied,omitempty"`
}

// FileAllow is an allow entry already in the overrides file.
type FileAllow struct {
	overrides.AllowEdit
	Line int `json:"line"`
}

// Label is an edge's name on the page and in tests: the workload
// references as flowpol prints them, then the port.
func Label(e topology.Edge) string {
	return fmt.Sprintf("%s -> %s %d/%s", e.Src, e.Dst, e.Port, e.Proto)
}

func (s *Server) handleModel(w http.ResponseWriter, _ *http.Request) {
	m, err := s.model()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, m)
}

// model reads the overrides file as it is now and describes the window.
func (s *Server) model() (*Model, error) {
	ov, _, err := s.readOverrides()
	if err != nil {
		return nil, err
	}
	win := s.opts.Window
	m := &Model{From: win.From, To: win.To, OverridesPath: s.opts.OverridesPath, HavePolicies: s.opts.HavePolicies, Edges: []Edge{}, Allow: []FileAllow{}}
	denied, err := s.denied(ov)
	if err != nil {
		return nil, err
	}
	m.Nodes = nodes(win)
	for i, e := range win.Edges {
		m.Edges = append(m.Edges, edge(i, e, ov, denied[e.Edge]))
	}
	for _, a := range ov.Allow {
		ports := make([]string, len(a.Ports))
		for i, p := range a.Ports {
			ports[i] = p.String()
		}
		m.Allow = append(m.Allow, FileAllow{AllowEdit: overrides.AllowEdit{Workload: a.Workload, Ingress: a.Ingress, Peer: a.Peer.Text, Ports: ports}, Line: a.Line})
	}
	return m, nil
}

// denied replays the window against the policies there, as check does.
func (s *Server) denied(ov *overrides.Set) (map[topology.Edge]string, error) {
	if !s.opts.HavePolicies {
		return nil, nil
	}
	res, err := check.Run(s.opts.Window, s.opts.Policies, ov)
	if err != nil {
		return nil, err
	}
	out := make(map[topology.Edge]string, len(res.Denials))
	for _, d := range res.Denials {
		dir := "egress"
		if d.Ingress {
			dir = "ingress"
		}
		out[d.Edge] = fmt.Sprintf("%s denied by %s: %s", dir, strings.Join(d.Policies, ", "), d.Reason)
	}
	return out, nil
}

func edge(i int, e topology.EdgeStats, ov *overrides.Set, denied string) Edge {
	out := Edge{ID: i, Label: Label(e.Edge), Src: e.Src.String(), Dst: e.Dst.String(), Port: e.Port, Proto: e.Proto.String(),
		Count: e.Count, First: e.First, Last: e.Last, SrcPods: e.SrcPods, DstPods: e.DstPods,
		Nodes: e.Nodes, SrcComms: e.SrcComms, DstComms: e.DstComms, Denied: denied}
	if x, ok := ov.Excludes(e); ok {
		out.ExcludedBy = fmt.Sprintf("%s:%d", ov.File, x.Line)
		_, out.Exact = ov.ExactExclusion(e.Edge)
		if !out.Exact {
			out.Fixed = "excluded by " + out.ExcludedBy + ", an entry broader than this edge"
		}
	}
	for _, end := range []topology.End{e.Src, e.Dst} {
		if _, err := overrides.EndPeer(end); err != nil && out.Fixed == "" {
			out.Fixed = err.Error()
		}
	}
	return out
}

// nodes are the window's workloads and every end of its edges, sorted.
func nodes(win *topology.Window) []Node {
	seen := map[topology.End]bool{}
	var ends []topology.End
	add := func(e topology.End) {
		if !seen[e] {
			seen[e] = true
			ends = append(ends, e)
		}
	}
	for ref := range win.Workloads {
		add(topology.End{Kind: topology.KindWorkload, Workload: ref})
	}
	for _, e := range win.Edges {
		add(e.Src)
		add(e.Dst)
	}
	slices.SortFunc(ends, topology.End.Compare)
	out := make([]Node, len(ends))
	for i, e := range ends {
		out[i] = node(win, e)
	}
	return out
}

func node(win *topology.Window, e topology.End) Node {
	n := Node{ID: e.String(), Kind: e.Kind.String(), Group: e.Kind.String(), Name: e.String()}
	switch e.Kind {
	case topology.KindWorkload:
		n.Group, n.Workload, n.Name = e.Workload.Namespace, e.Workload.Kind, e.Workload.Name
		wl := win.Workloads[e.Workload]
		if wl.Selector != nil {
			n.Selector = wl.Selector.MatchLabels
		}
		for _, o := range wl.Overlaps {
			n.Overlaps = append(n.Overlaps, o.String())
		}
		n.Ambiguous = wl.Selector == nil || len(wl.Overlaps) > 0
	case topology.KindHost:
		n.Name = e.Addr.String()
		if e.Node != "" {
			n.Name = e.Node + " " + e.Addr.String()
		}
	case topology.KindExternal:
		n.Name = e.Addr.String()
	case topology.KindUnresolved:
		n.Name = e.Addr.String() + " (" + e.Reason.String() + ")"
	}
	return n
}
