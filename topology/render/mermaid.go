package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/flowpol/flowpol/topology"
)

// Mermaid writes the window as a Mermaid flowchart: one subgraph per
// group, external ends as parallelograms, unresolved ones dotted, denied
// links red.
func Mermaid(out io.Writer, w *topology.Window, opts Options) error {
	g := build(w, opts)
	b := bufio.NewWriter(out)
	fmt.Fprintf(b, "%%%% flowpol topology, window %s to %s\n", g.from, g.to)
	b.WriteString("flowchart LR\n")
	classes := map[topology.Kind][]string{}
	for _, gr := range g.groups {
		fmt.Fprintf(b, "  subgraph %s[%s]\n", gr.id, mermaidQuote(gr.label))
		for _, n := range gr.nodes {
			open, close := "(", ")"
			if n.end.Kind == topology.KindExternal {
				open, close = "[/", "/]"
			}
			fmt.Fprintf(b, "    %s%s%s%s\n", n.id, open, mermaidQuote(lines(n)...), close)
			classes[n.end.Kind] = append(classes[n.end.Kind], n.id)
		}
		b.WriteString("  end\n")
	}
	var denied []string
	for i, l := range g.links {
		fmt.Fprintf(b, "  %s -->|%s| %s\n", l.src.id, mermaidQuote(l.label()...), l.dst.id)
		if l.denied() {
			denied = append(denied, fmt.Sprint(i))
		}
	}
	writeMermaidStyles(b, classes, denied)
	return b.Flush()
}

func writeMermaidStyles(b *bufio.Writer, classes map[topology.Kind][]string, denied []string) {
	styles := []struct {
		kind topology.Kind
		def  string
	}{
		{topology.KindWorkload, "fill:" + colorWorkload + ",stroke:#4a6fa5"},
		{topology.KindHost, "fill:" + colorHost + ",stroke:#5f6368"},
		{topology.KindAPIServer, "fill:" + colorHost + ",stroke:#5f6368"},
		{topology.KindOwnNode, "fill:" + colorHost + ",stroke:#5f6368"},
		{topology.KindExternal, "fill:" + colorExternal + ",stroke:#e8710a,stroke-dasharray:5 3"},
		{topology.KindUnresolved, "fill:" + colorUnresolved + ",stroke:#888888,stroke-dasharray:2 2"},
	}
	for _, s := range styles {
		if ids := classes[s.kind]; len(ids) > 0 {
			fmt.Fprintf(b, "  classDef %s %s\n  class %s %s\n", s.kind, s.def, strings.Join(ids, ","), s.kind)
		}
	}
	if len(denied) > 0 {
		fmt.Fprintf(b, "  linkStyle %s stroke:%s,stroke-width:2px,color:%s\n", strings.Join(denied, ","), colorDenied, colorDenied)
	}
}

// mermaidQuote makes a quoted Mermaid label of lines, joined with <br>.
func mermaidQuote(lines ...string) string {
	r := strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;", "|", "#124;", "\n", " ")
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = r.Replace(l)
	}
	return `"` + strings.Join(out, "<br>") + `"`
}
