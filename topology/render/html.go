package render

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/flowpol/flowpol/topology"
)

//go:embed page.html.tmpl
var pageTemplate string

// HTML writes the window as one self-contained page: an SVG laid out
// here, a legend and a table of the links, with inline style and a small
// inline script (highlighting a node's links on hover, and writing what
// was rendered into the element #rendered). It fetches nothing.
func HTML(out io.Writer, w *topology.Window, opts Options) error {
	t, err := template.New("page").Parse(pageTemplate)
	if err != nil {
		return fmt.Errorf("parse page template: %w", err)
	}
	return t.Execute(out, view(build(w, opts)))
}

// page is what the template draws.
type page struct {
	From, To      string
	Width, Height int
	Lanes         []laneView
	Nodes         []nodeView
	Links         []linkView
	Denied        int
}

type laneView struct {
	ID, Label, Class string
	X, Y, W, H       int
}

type nodeView struct {
	ID, Name, Class, Title string
	Lines                  []string
	X, Y                   int
}

type linkView struct {
	ID, Src, Dst, Name, Title string
	From, To                  string
	Path                      string
	Lines                     []string
	Label                     []textLine
	Denied                    bool
}

// textLine is one line of a link's label, placed.
type textLine struct {
	Text string
	X, Y int
}

func view(g *graph) page {
	lay := place(g)
	p := page{From: g.from, To: g.to, Width: lay.width, Height: lay.height}
	for _, gr := range g.groups {
		r := lay.lanes[gr]
		p.Lanes = append(p.Lanes, laneView{ID: gr.id, Label: gr.label, Class: gr.kind.String(), X: r.x, Y: r.y, W: r.w, H: r.h})
	}
	for _, n := range g.nodes {
		at := lay.pos[n]
		title := n.end.String()
		if n.note != "" {
			title += "\n" + n.note
		}
		p.Nodes = append(p.Nodes, nodeView{ID: n.id, Name: n.end.String(), Class: n.end.Kind.String(), Title: title,
			Lines: []string{clip(n.kind, 30), clip(n.name, 24)}, X: at.x, Y: at.y})
	}
	paths, labels := lay.labels(g)
	for _, l := range g.links {
		d, at := paths[l], labels[l]
		lv := linkView{ID: l.id, Src: l.src.id, Dst: l.dst.id, Name: l.src.end.String() + " -> " + l.dst.end.String(),
			From: l.src.end.String(), To: l.dst.end.String(), Path: d, Lines: l.label(), Denied: l.denied()}
		for i, text := range lv.Lines {
			// Centred on the curve's midpoint, 13 px a line.
			lv.Label = append(lv.Label, textLine{Text: text, X: at.x, Y: at.y + 4 + 13*i - 13*(len(lv.Lines)-1)/2})
		}
		lv.Title = lv.Name + "\n" + strings.Join(lv.Lines, "\n")
		for _, pt := range l.ports {
			if pt.denied != "" {
				lv.Title += "\n" + pt.text + ": " + pt.denied
			}
		}
		if lv.Denied {
			p.Denied++
		}
		p.Links = append(p.Links, lv)
	}
	return p
}

// clip shortens s to n runes, marking the cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
