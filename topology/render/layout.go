package render

import (
	"fmt"
	"math"
	"slices"
)

// Sizes of the HTML picture, in pixels.
const (
	nodeW      = 200
	nodeH      = 54
	gapX       = 130
	gapY       = 14
	laneHeader = 24
	lanePad    = 12
	margin     = 10
	loopRoom   = 60 // right of the last column, for self-loops
)

// point is a position in the picture.
type point struct{ x, y int }

// layout places the nodes: a column per rank (data flows left to right)
// and a horizontal lane per group, nodes of one rank and group stacked.
type layout struct {
	width, height int
	lanes         map[*group]rect
	pos           map[*node]point
}

type rect struct{ x, y, w, h int }

func place(g *graph) *layout {
	ranks := rank(g)
	cols := 1
	for _, r := range ranks {
		cols = max(cols, r+1)
	}
	lay := &layout{lanes: map[*group]rect{}, pos: map[*node]point{}}
	lay.width = 2*margin + 2*lanePad + cols*nodeW + (cols-1)*gapX + loopRoom
	y := margin
	for _, gr := range g.groups {
		stack := map[int]int{}
		rows := 1
		for _, n := range gr.nodes {
			n.rank = ranks[n]
			lay.pos[n] = point{margin + lanePad + n.rank*(nodeW+gapX), y + laneHeader + lanePad + stack[n.rank]*(nodeH+gapY)}
			stack[n.rank]++
			rows = max(rows, stack[n.rank])
		}
		h := laneHeader + 2*lanePad + rows*nodeH + (rows-1)*gapY
		lay.lanes[gr] = rect{margin, y, lay.width - 2*margin, h}
		y += h + gapY
	}
	lay.height = y - gapY + margin
	return lay
}

// rank is each node's column: the longest path to it from a node nothing
// reaches, once the links that close a cycle are set aside.
func rank(g *graph) map[*node]int {
	out := map[*node][]*node{}
	for _, l := range g.links {
		if l.src != l.dst {
			out[l.src] = append(out[l.src], l.dst)
		}
	}
	const (
		unseen = iota
		open
		done
	)
	state := map[*node]int{}
	var order []*node // reverse postorder: a topological order of the acyclic part
	var visit func(n *node)
	visit = func(n *node) {
		state[n] = open
		for _, m := range out[n] {
			if state[m] == unseen {
				visit(m)
			}
		}
		state[n] = done
		order = append(order, n)
	}
	for _, n := range g.nodes {
		if state[n] == unseen {
			visit(n)
		}
	}
	slices.Reverse(order)
	index := map[*node]int{}
	for i, n := range order {
		index[n] = i
	}
	ranks := map[*node]int{}
	for _, n := range order {
		for _, m := range out[n] {
			if index[m] > index[n] { // a forward link; the others close cycles
				ranks[m] = max(ranks[m], ranks[n]+1)
			}
		}
	}
	return ranks
}

// path is the SVG path of a link, and where its label goes.
func (lay *layout) path(l *link) (d string, label point) {
	s, t := lay.pos[l.src], lay.pos[l.dst]
	if l.src == l.dst {
		x, y := s.x+nodeW, s.y
		d = fmt.Sprintf("M%d,%d C%d,%d %d,%d %d,%d", x, y+14, x+55, y-6, x+55, y+nodeH+6, x, y+nodeH-14)
		return d, point{x + 44, y + nodeH/2}
	}
	p0 := point{s.x + nodeW, s.y + nodeH/2}
	p3 := point{t.x, t.y + nodeH/2}
	k := max(60, (p3.x-p0.x)/2)
	p1, p2 := point{p0.x + k, p0.y}, point{p3.x - k, p3.y}
	if p3.x <= p0.x { // a link back, or within a column: leave and enter below
		p0, p3 = point{s.x + nodeW/2, s.y + nodeH}, point{t.x + nodeW/2, t.y + nodeH}
		p1, p2 = point{p0.x + 40, p0.y + 50}, point{p3.x - 40, p3.y + 50}
	}
	d = fmt.Sprintf("M%d,%d C%d,%d %d,%d %d,%d", p0.x, p0.y, p1.x, p1.y, p2.x, p2.y, p3.x, p3.y)
	c := [4]point{p0, p1, p2, p3}
	if p3.x <= p0.x {
		return d, bezier(c, 0.5)
	}
	// The label goes in the gap after the source's column, where the
	// links leaving one node have parted and none crosses a node yet.
	return d, bezierAtX(c, min(p0.x+gapX/2, (p0.x+p3.x)/2))
}

// bezier is the point at t of a cubic Bézier curve.
func bezier(c [4]point, t float64) point {
	u := 1 - t
	f := func(a, b, c, d int) int {
		return int(math.Round(u*u*u*float64(a) + 3*u*u*t*float64(b) + 3*u*t*t*float64(c) + t*t*t*float64(d)))
	}
	return point{f(c[0].x, c[1].x, c[2].x, c[3].x), f(c[0].y, c[1].y, c[2].y, c[3].y)}
}

// bezierAtX is the point of a curve whose x grows with t where x is
// (nearly) the given one.
func bezierAtX(c [4]point, x int) point {
	lo, hi := 0.0, 1.0
	for range 30 {
		mid := (lo + hi) / 2
		if bezier(c, mid).x < x {
			lo = mid
		} else {
			hi = mid
		}
	}
	return bezier(c, (lo+hi)/2)
}

// labels places every link's label at its curve's chosen point, moved down
// (a line at a time) off the nodes and the labels placed before it.
func (lay *layout) labels(g *graph) (paths map[*link]string, at map[*link]point) {
	paths, at = map[*link]string{}, map[*link]point{}
	var taken []rect
	for _, n := range g.nodes {
		p := lay.pos[n]
		taken = append(taken, rect{p.x, p.y, nodeW, nodeH})
	}
	for _, l := range g.links {
		d, p := lay.path(l)
		paths[l] = d
		w := 0
		for _, s := range l.label() {
			w = max(w, 6*len(s)+8) // 11 px text: about 6 px a character
		}
		h := 13 * len(l.ports)
		box := rect{p.x - w/2, p.y - 10 - 13*(len(l.ports)-1)/2, w, h}
		for i := 0; i < 40 && overlapsAny(box, taken); i++ {
			box.y += 13
		}
		taken = append(taken, box)
		at[l] = point{p.x, box.y + 10 + 13*(len(l.ports)-1)/2}
	}
	return paths, at
}

func overlapsAny(r rect, others []rect) bool {
	for _, o := range others {
		if r.x < o.x+o.w && o.x < r.x+r.w && r.y < o.y+o.h && o.y < r.y+r.h {
			return true
		}
	}
	return false
}
