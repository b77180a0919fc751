package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/flowpol/flowpol/topology"
)

// Colours shared by every format.
const (
	colorDenied     = "#d62728"
	colorWorkload   = "#e8f0fe"
	colorHost       = "#f1f3f4"
	colorExternal   = "#fff4e5"
	colorUnresolved = "#eeeeee"
)

// DOT writes the window as a Graphviz digraph: one cluster per group.
func DOT(out io.Writer, w *topology.Window, opts Options) error {
	g := build(w, opts)
	b := bufio.NewWriter(out)
	fmt.Fprintf(b, "// flowpol topology, window %s to %s\n", g.from, g.to)
	b.WriteString("digraph flowpol {\n")
	b.WriteString("  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, nodesep=0.3, ranksep=1.2];\n")
	b.WriteString("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=11, fillcolor=\"" + colorWorkload + "\"];\n")
	b.WriteString("  edge [fontname=\"Helvetica\", fontsize=9, color=\"#555555\"];\n")
	for i, gr := range g.groups {
		fmt.Fprintf(b, "  subgraph cluster_%d {\n    label=%s;\n%s", i+1, dotQuote(gr.label), dotGroupStyle(gr.kind))
		for _, n := range gr.nodes {
			fmt.Fprintf(b, "    %s [label=%s%s];\n", n.id, dotQuote(lines(n)...), dotNodeStyle(n.end.Kind))
		}
		b.WriteString("  }\n")
	}
	for _, l := range g.links {
		style := ""
		if l.denied() {
			style = ", color=\"" + colorDenied + "\", fontcolor=\"" + colorDenied + "\", penwidth=2"
		}
		fmt.Fprintf(b, "  %s -> %s [label=%s%s];\n", l.src.id, l.dst.id, dotQuote(l.label()...), style)
	}
	b.WriteString("}\n")
	return b.Flush()
}

// lines are a node's label lines.
func lines(n *node) []string {
	if n.note != "" {
		return []string{n.kind, n.name, n.note}
	}
	return []string{n.kind, n.name}
}

func dotGroupStyle(k topology.Kind) string {
	switch k {
	case topology.KindExternal:
		return "    style=dashed; color=\"#e8710a\";\n"
	case topology.KindUnresolved:
		return "    style=dotted; color=\"#888888\";\n"
	}
	return "    style=rounded; color=\"#9aa0a6\";\n"
}

func dotNodeStyle(k topology.Kind) string {
	switch k {
	case topology.KindHost, topology.KindAPIServer, topology.KindOwnNode:
		return ", fillcolor=\"" + colorHost + "\""
	case topology.KindExternal:
		return ", shape=box, style=\"rounded,filled,dashed\", fillcolor=\"" + colorExternal + "\""
	case topology.KindUnresolved:
		return ", style=\"rounded,filled,dotted\", fillcolor=\"" + colorUnresolved + "\""
	}
	return ""
}

// dotQuote makes a quoted DOT string of lines, joined with \n.
func dotQuote(lines ...string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = r.Replace(l)
	}
	return `"` + strings.Join(out, `\n`) + `"`
}
