package ui_test

import (
	"context"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flowpol/flowpol/internal/browser"
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
	srv, err := ui.New(ui.Options{Window: w})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	b := browser.New(t, browser.Options{})
	ctx, cancel := context.WithTimeout(b.Ctx, 3*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(hs.URL+"/?token="+srv.Token()), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`))); err != nil {
		t.Fatal(err)
	}
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
