package render

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/flowpol/flowpol/topology"
)

// Options shape a rendering.
type Options struct {
	// Denied are the observed edges a policy set would deny, each with why
	// (which policies, and their reason). Nil or empty draws none red.
	Denied map[topology.Edge]string
}

// graph is the window as a picture sees it: ends in groups, and one link
// per ordered pair of ends with every port seen between them.
type graph struct {
	from, to string
	groups   []*group
	nodes    []*node
	links    []*link
}

type group struct {
	id    string
	label string
	kind  topology.Kind // the kind of its ends; KindHost also holds the API server
	nodes []*node
}

type node struct {
	id    string
	end   topology.End
	group *group
	kind  string // first line: a workload's kind, else what the end is
	name  string // second line
	note  string // a third line, or ""
	rank  int    // column in the HTML layout
}

type link struct {
	id       string
	src, dst *node
	ports    []port
}

type port struct {
	text   string // "8080/TCP"
	count  uint64
	est    uint64 // of count, estimated (topology.EdgeStats.Estimated)
	denied string // why, when denied
}

// denied reports whether any of the link's ports is denied.
func (l *link) denied() bool {
	return slices.ContainsFunc(l.ports, func(p port) bool { return p.denied != "" })
}

// label is the link's text: one line per port.
func (l *link) label() []string {
	out := make([]string, len(l.ports))
	for i, p := range l.ports {
		out[i] = fmt.Sprintf("%s (%d)", p.text, p.count)
		if p.est > 0 {
			out[i] = fmt.Sprintf("%s (%d, %d estimated)", p.text, p.count, p.est)
		}
		if p.denied != "" {
			out[i] += " denied"
		}
	}
	return out
}

// build turns a window into a graph. Edges arrive sorted (Window's
// contract), but are sorted again so that output never depends on it.
func build(w *topology.Window, opts Options) *graph {
	g := &graph{from: w.From.UTC().Format("2006-01-02T15:04:05Z"), to: w.To.UTC().Format("2006-01-02T15:04:05Z")}
	edges := slices.Clone(w.Edges)
	slices.SortFunc(edges, func(a, b topology.EdgeStats) int { return a.Edge.Compare(b.Edge) })
	nodes := map[topology.End]*node{}
	links := map[[2]topology.End]*link{}
	cov := w.Coverage()
	for _, e := range edges {
		for _, end := range []topology.End{e.Src, e.Dst} {
			if nodes[end] == nil {
				nodes[end] = newNode(end)
				if end.Kind == topology.KindWorkload {
					nodes[end].note = "observed " + cov[end.Workload].String()
				}
			}
		}
		key := [2]topology.End{e.Src, e.Dst}
		l := links[key]
		if l == nil {
			l = &link{src: nodes[e.Src], dst: nodes[e.Dst]}
			links[key] = l
			g.links = append(g.links, l)
		}
		l.ports = append(l.ports, port{text: fmt.Sprintf("%d/%s", e.Port, e.Proto), count: e.Count, est: e.Estimated, denied: opts.Denied[e.Edge]})
	}
	g.group(nodes)
	for i, l := range g.links {
		l.id = fmt.Sprintf("e%d", i+1)
	}
	return g
}

// group sorts the nodes into groups, and numbers both in drawing order.
func (g *graph) group(nodes map[topology.End]*node) {
	all := make([]*node, 0, len(nodes))
	for _, n := range nodes {
		all = append(all, n)
	}
	slices.SortFunc(all, func(a, b *node) int {
		return cmp.Or(cmp.Compare(groupKind(a.end.Kind), groupKind(b.end.Kind)), a.end.Compare(b.end))
	})
	byKey := map[string]*group{}
	for i, n := range all {
		n.id = fmt.Sprintf("n%d", i+1)
		key, label := groupOf(n.end)
		gr := byKey[key]
		if gr == nil {
			gr = &group{id: fmt.Sprintf("g%d", len(g.groups)+1), label: label, kind: groupKind(n.end.Kind)}
			byKey[key] = gr
			g.groups = append(g.groups, gr)
		}
		n.group = gr
		gr.nodes = append(gr.nodes, n)
	}
	g.nodes = all
}

// groupKind puts the API server and the pods' own node with the hosts:
// they are the cluster's own machinery.
func groupKind(k topology.Kind) topology.Kind {
	if k == topology.KindAPIServer || k == topology.KindOwnNode {
		return topology.KindHost
	}
	return k
}

func groupOf(e topology.End) (key, label string) {
	switch groupKind(e.Kind) {
	case topology.KindWorkload:
		return "ns/" + e.Workload.Namespace, "namespace " + e.Workload.Namespace
	case topology.KindHost:
		return "host", "nodes and API server"
	case topology.KindExternal:
		return "external", "external"
	}
	return "unresolved", "unresolved"
}

func newNode(e topology.End) *node {
	n := &node{end: e}
	switch e.Kind {
	case topology.KindWorkload:
		n.kind, n.name = e.Workload.Kind, e.Workload.Name
	case topology.KindHost:
		n.kind, n.name = "host", e.Addr.String()
		if e.Node != "" {
			n.name, n.note = e.Node, e.Addr.String()
		}
	case topology.KindAPIServer:
		n.kind, n.name = "apiserver", "kubernetes API"
	case topology.KindOwnNode:
		n.kind, n.name, n.note = "own-node", "the pod's own node", "always allowed, no rule"
	case topology.KindExternal:
		n.kind, n.name = "external", e.Addr.String()
	default:
		n.kind, n.name, n.note = "unresolved", e.Addr.String(), e.Reason.String()
	}
	return n
}
