package render

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/topology"
)

func workload(ns, kind, name string) topology.End {
	return topology.End{Kind: topology.KindWorkload, Workload: topology.WorkloadRef{Namespace: ns, Kind: kind, Name: name}}
}

var (
	web      = workload("shop", "Deployment", "web")
	api      = workload("shop", "Deployment", "api")
	db       = workload("data", "StatefulSet", "db")
	external = topology.End{Kind: topology.KindExternal, Addr: netip.MustParseAddr("203.0.113.10")}
	lost     = topology.End{Kind: topology.KindUnresolved, Addr: netip.MustParseAddr("10.0.0.9"), Reason: topology.ReasonNoServicePort}
)

func edge(src, dst topology.End, port uint16, proto flow.Proto, count uint64) topology.EdgeStats {
	return topology.EdgeStats{Edge: topology.Edge{Src: src, Dst: dst, Port: port, Proto: proto}, Count: count}
}

// testWindow has two namespaces, an external and an unresolved end, two
// ports on one link, a self-loop and a cycle.
func testWindow() *topology.Window {
	from := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	return &topology.Window{From: from, To: from.Add(3 * time.Hour), Edges: []topology.EdgeStats{
		edge(web, api, 8080, flow.TCP, 230),
		edge(web, api, 8443, flow.TCP, 7),
		edge(api, db, 5432, flow.TCP, 200),
		edge(db, db, 5432, flow.TCP, 1),
		edge(api, external, 443, flow.TCP, 15),
		edge(lost, api, 8080, flow.TCP, 2),
		edge(db, web, 9000, flow.TCP, 3), // closes a cycle
	}}
}

var formats = []struct {
	name string
	draw func(io.Writer, *topology.Window, Options) error
	want []string // in the output, whatever is denied
	red  []string // only when web -> api 8080 is denied
}{
	{
		name: "dot",
		draw: DOT,
		want: []string{`subgraph cluster_1 {`, `label="namespace data";`, `label="namespace shop";`, `label="external";`, `style=dashed`, `style=dotted`,
			`n3 -> n2 [label="8080/TCP (230)`, `8443/TCP (7)"`, `n5 -> n2 [label="8080/TCP (2)"];`, `service has no such port`, `n1 -> n1 [label="5432/TCP (1)"];`},
		red: []string{`8080/TCP (230) denied\n8443/TCP (7)", color="#d62728"`},
	},
	{
		name: "mermaid",
		draw: Mermaid,
		want: []string{"flowchart LR", `subgraph g1["namespace data"]`, `subgraph g2["namespace shop"]`, `n4[/"external<br>203.0.113.10"/]`,
			`n3 -->|"8080/TCP (230)`, `8443/TCP (7)"| n2`, "10.0.0.9<br>service has no such port", "class n5 unresolved", "class n4 external"},
		red: []string{"linkStyle 4 stroke:#d62728"},
	},
	{
		name: "html",
		draw: HTML,
		want: []string{`<g class="lane workload" id="g1">`, `namespace shop`, `class="node external"`, `class="node unresolved"`,
			`data-name="shop/Deployment/web -&gt; shop/Deployment/api"`, `<tspan`, `8443/TCP (7)`, `unresolved/10.0.0.9 (service has no such port) -&gt; shop/Deployment/api`},
		red: []string{`class="edge denied"`, `marker-end="url(#arrow-denied)"`, `8080/TCP (230) denied`},
	},
}

func TestFormats(t *testing.T) {
	denied := Options{Denied: map[topology.Edge]string{testWindow().Edges[0].Edge: "ingress denied by shop/x"}}
	for _, f := range formats {
		for _, tt := range []struct {
			name string
			opts Options
		}{{"no policies", Options{}}, {"one flow denied", denied}} {
			t.Run(f.name+"/"+tt.name, func(t *testing.T) {
				var b bytes.Buffer
				if err := f.draw(&b, testWindow(), tt.opts); err != nil {
					t.Fatal(err)
				}
				out := b.String()
				for _, w := range f.want {
					if !strings.Contains(out, w) {
						t.Errorf("output lacks %q:\n%s", w, out)
					}
				}
				for _, w := range f.red {
					if got := strings.Contains(out, w); got != (tt.opts.Denied != nil) {
						t.Errorf("%q in the output: %v, want %v", w, got, tt.opts.Denied != nil)
					}
				}
			})
		}
	}
}

// Every format says how many of a port's connections are estimated, when
// any are, and only then. If it failed, a drawing would show an estimate
// as a count the servers reported.
func TestEstimated(t *testing.T) {
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			w := testWindow()
			w.Edges[1].Estimated = 4
			var b bytes.Buffer
			if err := f.draw(&b, w, Options{}); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if !strings.Contains(out, "8443/TCP (7, 4 estimated)") || strings.Count(out, "estimated") != strings.Count(out, "8443/TCP (7, 4 estimated)") {
				t.Errorf("output says %d times \"estimated\", want only for 8443/TCP (7, 4 estimated):\n%s", strings.Count(out, "estimated"), out)
			}
		})
	}
}

// The output depends on the window's edges, not on their order.
func TestDeterministic(t *testing.T) {
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			var want bytes.Buffer
			if err := f.draw(&want, testWindow(), Options{}); err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(1, 2))
			for range 5 {
				w := testWindow()
				r.Shuffle(len(w.Edges), func(i, j int) { w.Edges[i], w.Edges[j] = w.Edges[j], w.Edges[i] })
				var got bytes.Buffer
				if err := f.draw(&got, w, Options{}); err != nil {
					t.Fatal(err)
				}
				if got.String() != want.String() {
					t.Fatalf("edge order changed the output")
				}
			}
		})
	}
}

// Nodes sit inside their lane and the picture, and never on each other;
// a link goes to a later column unless it closes a cycle.
func TestLayout(t *testing.T) {
	g := build(testWindow(), Options{})
	lay := place(g)
	var boxes []rect
	for _, n := range g.nodes {
		p := lay.pos[n]
		box, lane := rect{p.x, p.y, nodeW, nodeH}, lay.lanes[n.group]
		if box.x < lane.x || box.y < lane.y || box.x+box.w > lane.x+lane.w || box.y+box.h > lane.y+lane.h {
			t.Errorf("%s at %v is outside its lane %v", n.end, box, lane)
		}
		if box.x+box.w > lay.width || box.y+box.h > lay.height {
			t.Errorf("%s at %v is outside the picture %dx%d", n.end, box, lay.width, lay.height)
		}
		if overlapsAny(box, boxes) {
			t.Errorf("%s at %v overlaps another node", n.end, box)
		}
		boxes = append(boxes, box)
	}
	backward := 0
	for _, l := range g.links {
		if l.src != l.dst && l.dst.rank <= l.src.rank {
			backward++
		}
	}
	if backward != 1 {
		t.Errorf("%d links go back a column, want 1 (the one that closes the cycle)", backward)
	}
	if ranks := []int{g.nodes[slices.IndexFunc(g.nodes, func(n *node) bool { return n.end == lost })].rank,
		g.nodes[slices.IndexFunc(g.nodes, func(n *node) bool { return n.end == external })].rank}; ranks[0] >= ranks[1] {
		t.Errorf("unresolved source in column %d, external destination in column %d: want the source first", ranks[0], ranks[1])
	}
}
