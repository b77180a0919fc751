package ui_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flowpol/flowpol/internal/browser"
	"github.com/flowpol/flowpol/topology"
	"github.com/flowpol/flowpol/ui"
)

type drawnEnd struct {
	ID         string
	X, Y, W, H float64
	Visible    bool
}

// At 2,000 workloads the map is laid out on the grid: every end of the
// window is drawn, inside the map, and no two overlap; picking a namespace
// shows its ends (laid out again), and all namespaces bring the grid back.
// Were the grid wrong, a workload would be missing, off the canvas, or
// hidden under another.
func TestLargeMapDrawsEveryEnd(t *testing.T) {
	w := bigWindow(50, 40)
	b, ctx := openPage(t, ui.Options{Window: w})
	want := map[string]bool{}
	for ref := range w.Workloads {
		want[ref.String()] = true
	}
	for _, e := range w.Edges {
		want[e.Src.String()], want[e.Dst.String()] = true, true
	}
	drawn := run(t, ctx, chromedp.Evaluate[[]drawnEnd](`flowpolMap.drawn()`))
	box := run(t, ctx, chromedp.Evaluate[struct{ W, H float64 }](`(() => { const r = document.getElementById('map').getBoundingClientRect(); return {W: r.width, H: r.height}; })()`))
	if len(drawn) != len(want) {
		t.Errorf("the map draws %d ends, the window has %d", len(drawn), len(want))
	}
	type cell struct{ x, y int }
	at := map[cell]string{}
	for _, n := range drawn {
		if !want[n.ID] {
			t.Errorf("the map draws %s, which the window does not have", n.ID)
		}
		if !n.Visible || n.W <= 0 || n.H <= 0 || n.X < 0 || n.Y < 0 || n.X+n.W > box.W+1 || n.Y+n.H > box.H+1 {
			t.Errorf("%s is not drawn inside the map (%gx%g): %+v", n.ID, box.W, box.H, n)
		}
		// Two ends overlap when their centres are closer than their size.
		c := cell{int((n.X + n.W/2) / n.W), int((n.Y + n.H/2) / n.H)}
		if other, ok := at[c]; ok {
			t.Errorf("%s and %s are drawn at the same place", other, n.ID)
		}
		at[c] = n.ID
	}

	pick(t, ctx, "team-07")
	shown := run(t, ctx, chromedp.Evaluate[[]drawnEnd](`flowpolMap.drawn().filter(n => n.visible)`))
	// team-07's 40, the next two of team-06 and team-08 that call them or
	// that they call, and its external address.
	if len(shown) != 40+40+40+1 {
		t.Errorf("namespace team-07 shows %d ends, want 121", len(shown))
	}
	pick(t, ctx, "")
	again := run(t, ctx, chromedp.Evaluate[[]drawnEnd](`flowpolMap.drawn()`))
	for i := range again {
		if again[i] != drawn[i] {
			t.Errorf("after all namespaces again, %s is at %+v, was %+v", again[i].ID, again[i], drawn[i])
			break
		}
	}
	if errs := b.Errors(); len(errs) > 0 {
		t.Errorf("the page reported errors: %v", errs)
	}
}

// pick chooses a namespace in the filter, as a person does.
func pick(t *testing.T, ctx context.Context, namespace string) {
	t.Helper()
	run(t, ctx, chromedp.Evaluate[bool](`(s => { s.value = `+strconv.Quote(namespace)+`; s.dispatchEvent(new Event('change')); return true; })(document.getElementById('namespace'))`))
}

func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Past 400 ends the grid's links are drawn on a canvas under the ends:
// along the line between the two ends of the window's one edge that canvas
// has the links' grey, or, when the overrides exclude the edge or its box
// is unticked on the page, their red (dashed, so not everywhere); nowhere
// else is it red. Were the links not drawn, or drawn elsewhere or in the
// wrong colour, or not drawn again when the page's answer colours them, the
// samples would say.
func TestLargeMapDrawsLinks(t *testing.T) {
	const src, dst = "team-00/Deployment/svc-000", "team-10/Deployment/svc-039"
	for _, tc := range []struct {
		name      string
		overrides string
		untick    bool
		red       bool
	}{
		{name: "allowed"},
		{name: "excluded", overrides: "exclude:\n  - from: " + src + "\n    to: " + dst + "\n    ports: [\"8080/TCP\"]\n", red: true},
		{name: "unticked", untick: true, red: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := bigWindow(11, 40)
			var keep []topology.EdgeStats
			for _, e := range w.Edges {
				if e.Src.String() == src && e.Dst.String() == "team-00/Deployment/svc-001" {
					e.Dst = topology.End{Kind: topology.KindWorkload, Workload: topology.WorkloadRef{Namespace: "team-10", Kind: "Deployment", Name: "svc-039"}}
					keep = append(keep, e)
				}
			}
			w.Edges = keep
			path := filepath.Join(t.TempDir(), "o.yaml")
			if err := os.WriteFile(path, []byte(tc.overrides), 0o644); err != nil {
				t.Fatal(err)
			}
			b, ctx := openPage(t, ui.Options{Window: w, OverridesPath: path})
			if tc.untick {
				untick(t, ctx, src, src+" -> "+dst+" 8080/TCP")
			}
			s := run(t, ctx, chromedp.Evaluate[linkSamples](linkSamplesJS(src, dst)))
			if s.Samples < 50 {
				t.Fatalf("the ends are %d samples apart, want a long line: %+v", s.Samples, s)
			}
			if tc.red {
				if s.Red < s.Samples/3 || s.RedElsewhere > 0 {
					t.Errorf("red link: %d of %d samples on it red, %d red elsewhere; want a third at least, and none", s.Red, s.Samples, s.RedElsewhere)
				}
			} else if s.Grey < s.Samples*9/10 || s.Red > 0 || s.RedElsewhere > 0 {
				t.Errorf("link: %d of %d samples on it grey, %d red, %d red elsewhere; want nine tenths, none, none", s.Grey, s.Samples, s.Red, s.RedElsewhere)
			}
			if errs := b.Errors(); len(errs) > 0 {
				t.Errorf("the page reported errors: %v", errs)
			}
		})
	}
}

// openPage serves the page for opts and opens it in Chromium, and returns
// the browser and a context for the test, once the page is ready.
func openPage(t *testing.T, opts ui.Options) (*browser.Browser, context.Context) {
	t.Helper()
	srv, err := ui.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	b := browser.New(t, browser.Options{})
	ctx, cancel := context.WithTimeout(b.Ctx, 3*time.Minute)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate(hs.URL+"/?token="+srv.Token()), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`))); err != nil {
		t.Fatal(err)
	}
	return b, ctx
}

// untick clicks an end on the map, unticks an edge's box in its table, and
// waits for the page to show the answer for that.
func untick(t *testing.T, ctx context.Context, end, edge string) {
	t.Helper()
	at := run(t, ctx, chromedp.Evaluate[struct{ X, Y float64 }](`(() => {
		const n = flowpolMap.drawn().find(n => n.id === `+strconv.Quote(end)+`);
		const r = document.getElementById('map').getBoundingClientRect();
		return {X: r.left + n.x + n.w / 2, Y: r.top + n.y + n.h / 2};
	})()`))
	if err := chromedp.Do(ctx, chromedp.MouseClickXY(at.X, at.Y), chromedp.Click(chromedp.CSS(`input[aria-label="`+edge+`"]`))); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, chromedp.Poll[bool](`document.body.dataset.revision === '2' && document.body.dataset.shown === '2'`))
}

type linkSamples struct{ Samples, Grey, Red, RedElsewhere int }

// linkSamplesJS reads the canvas under the map at every pixel of the line
// between two ends' centres, and over the whole canvas for red. Grey is a
// pixel darker than the blocks' fill without being red.
func linkSamplesJS(src, dst string) string {
	return `(() => {
  const at = new Map(flowpolMap.drawn().map((n) => [n.id, { x: n.x + n.w / 2, y: n.y + n.h / 2 }]));
  const a = at.get(` + strconv.Quote(src) + `), b = at.get(` + strconv.Quote(dst) + `);
  const c = document.querySelector('#map > canvas');
  const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const red = (i) => px[i + 3] > 40 && px[i] - px[i + 1] > 30;
  const grey = (i) => px[i + 3] > 0 && !red(i) && px[i] < 235;
  const n = Math.floor(Math.hypot(b.x - a.x, b.y - a.y));
  const on = new Set();
  const out = { samples: 0, grey: 0, red: 0, redElsewhere: 0 };
  for (let k = 0; k <= n; k++) {
    const x = Math.round(a.x + (b.x - a.x) * k / n), y = Math.round(a.y + (b.y - a.y) * k / n);
    if (x < 0 || y < 0 || x >= c.width || y >= c.height) continue;
    const i = (y * c.width + x) * 4;
    on.add(i);
    if (k < 4 || k > n - 4) continue; // under the ends
    out.samples++;
    if (grey(i)) out.grey++;
    if (red(i)) out.red++;
  }
  for (let y = 0; y < c.height; y++) {
    for (let x = 0; x < c.width; x++) {
      const i = (y * c.width + x) * 4;
      if (!red(i)) continue;
      // a red pixel beside the line is the line's antialiasing
      let near = false;
      for (let d = -2; d <= 2 && !near; d++) for (let e = -2; e <= 2 && !near; e++) near = on.has(((y + d) * c.width + x + e) * 4);
      if (!near) out.redElsewhere++;
    }
  }
  return { Samples: out.samples, Grey: out.grey, Red: out.red, RedElsewhere: out.redElsewhere };
})()`
}
