package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/flowpol/flowpol/baseline/boltdb"
	"github.com/flowpol/flowpol/cmd/flowpol/cli"
	"github.com/flowpol/flowpol/internal/browser"
	"github.com/flowpol/flowpol/internal/npguard"
	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/policyfile"
	"github.com/flowpol/flowpol/topology"
)

// startUI runs flowpol ui until the test ends and returns the address it
// printed.
func startUI(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- cli.Run(ctx, append([]string{"ui"}, args...), cli.Streams{In: strings.NewReader(""), Out: pw, Err: &errb})
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("flowpol ui: exit %d\n%s", code, errb.String())
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("flowpol ui printed no address: %v\n%s", err, errb.String())
	}
	go io.Copy(io.Discard, pr)
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "serving ")
	if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.Contains(url, "/?token=") {
		t.Fatalf("flowpol ui printed %q, want serving http://127.0.0.1:PORT/?token=...", line)
	}
	return url
}

// A request without the token is refused; with it, the page loads; a
// write needs the token in its header, not only the cookie.
func TestUIToken(t *testing.T) {
	db := learnScenario(t, "example")
	url := startUI(t, "--db", db, "--until", exampleUntil, "--overrides", filepath.Join(t.TempDir(), "o.yaml"))
	base, token, _ := strings.Cut(url, "?token=")
	get := func(u string) int {
		r, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	if code := get(base); code != http.StatusUnauthorized {
		t.Errorf("GET without the token: %d, want 401", code)
	}
	if code := get(base + "api/model"); code != http.StatusUnauthorized {
		t.Errorf("GET /api/model without the token: %d, want 401", code)
	}
	if code := get(base + "?token=x" + token); code != http.StatusForbidden {
		t.Errorf("GET with a wrong token: %d, want 403", code)
	}
	if code := get(url); code != http.StatusOK {
		t.Errorf("GET with the token: %d, want 200", code)
	}
	post := func(header string) int {
		req, err := http.NewRequest(http.MethodPost, base+"api/save", strings.NewReader(`{"unticked":[]}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.AddCookie(&http.Cookie{Name: "flowpol-ui-" + portOf(base), Value: token})
		if header != "" {
			req.Header.Set("X-Flowpol-Token", header)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	if code := post(""); code != http.StatusForbidden {
		t.Errorf("POST with the cookie but no header: %d, want 403", code)
	}
	if code := post("x"); code != http.StatusForbidden {
		t.Errorf("POST with a wrong header: %d, want 403", code)
	}
	if code := post(token); code != http.StatusOK {
		t.Errorf("POST with the header: %d, want 200", code)
	}
}

func portOf(base string) string {
	hostport := strings.TrimSuffix(strings.TrimPrefix(base, "http://"), "/")
	return hostport[strings.LastIndex(hostport, ":")+1:]
}

// The review in Chromium: the map draws every workload of the window;
// unticking one edge and saving writes an overrides file with which
// generate denies exactly that edge, as an engine that shares no code with
// flowpol judges it, and gives exactly the policies the page showed; the
// page reports no error; and a screenshot shows the map with the unticked
// link in red.
func TestUIReviewInChromium(t *testing.T) {
	db := learnScenario(t, "example")
	dir := t.TempDir()
	ovPath := filepath.Join(dir, "overrides.yaml")
	writeFile(t, ovPath, "# reviewed by the platform team\nskipNamespaces: [kube-system]\n")
	url := startUI(t, "--db", db, "--until", exampleUntil, "--overrides", ovPath, "--policies", repoFile("testdata", "check", "policies"))
	b := browser.New(t, browser.Options{Width: 1280, Height: 900})
	ctx, cancel := context.WithTimeout(b.Ctx, 2*time.Minute)
	defer cancel()
	do(t, ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))

	win := exampleWindow(t, db)
	checkDrawn(t, ctx, win)

	const untick = "shop/Deployment/api -> data/StatefulSet/postgres 5432/TCP"
	clickNode(t, ctx, "shop/Deployment/api")
	settled(t, ctx, 1)
	boxes := cdpRun(t, ctx, browser.Named("checkbox", untick))
	if boxes != 1 {
		t.Fatalf("%d checkboxes named %q, want 1", boxes, untick)
	}
	checked := cdpRun(t, ctx, chromedp.Evaluate[bool](`document.querySelector('input[aria-label="`+untick+`"]').checked`))
	if !checked {
		t.Fatalf("%q is unticked before the review", untick)
	}
	// The box the accessibility tree names is the one clicked.
	before := revision(t, ctx)
	do(t, ctx, chromedp.Click(chromedp.CSS(`input[aria-label="`+untick+`"]`)))
	if cdpRun(t, ctx, chromedp.Evaluate[bool](`document.querySelector('input[aria-label="`+untick+`"]').checked`)) {
		t.Fatalf("%q is still ticked after the click", untick)
	}
	// Once the panel shows the revision of the untick, the map shows
	// the same answer: the link is red.
	settled(t, ctx, before+1)
	red := cdpRun(t, ctx, chromedp.Evaluate[bool](`flowpolMap.links().some(l => l.source === "shop/Deployment/api" && l.target === "data/StatefulSet/postgres" && l.red)`))
	if !red {
		t.Fatalf("the panel shows the untick of %q, but its link is not red on the map", untick)
	}
	do(t, ctx, chromedp.Click(chromedp.ID("tab-all")))
	if tab := cdpRun(t, ctx, chromedp.Evaluate[string](`document.getElementById('tab-all').getAttribute('aria-selected')`)); tab != "true" {
		t.Fatalf("the All tab is not selected after its click (aria-selected %q)", tab)
	}
	save := cdpRun(t, ctx, browser.Named("button", "Save overrides"))
	if save != 1 {
		t.Fatalf("%d buttons named Save overrides, want 1", save)
	}
	do(t, ctx, chromedp.Click(chromedp.ID("save")))
	said := cdpRun(t, ctx, chromedp.Poll[string](`(s => s.startsWith('saved ') || s.startsWith('not saved') ? s : '')(document.getElementById('status').textContent)`, chromedp.WithPollingTimeout(20*time.Second)))
	if !strings.HasPrefix(said, "saved ") {
		t.Fatalf("the page says %q", said)
	}
	// "saved" is said once the panel shows the file as written.
	if r := cdpRun(t, ctx, chromedp.Evaluate[[2]string](`[document.body.dataset.shown, document.body.dataset.revision]`)); r[0] != r[1] {
		t.Fatalf("the page says %q while its panel shows revision %s of %s", said, r[0], r[1])
	}
	shown := cdpRun(t, ctx, chromedp.TextContent(chromedp.ID("yaml")))

	saved, err := os.ReadFile(ovPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# reviewed by the platform team\n", "skipNamespaces: [kube-system]\n", "from: shop/Deployment/api\n", "to: data/StatefulSet/postgres\n", `ports: ["5432/TCP"]`} {
		if !strings.Contains(string(saved), want) {
			t.Errorf("saved overrides lack %q:\n%s", want, saved)
		}
	}
	gen := mustRun(t, "generate", "--db", db, "--until", exampleUntil, "--overrides", ovPath)
	if gen.out != shown {
		t.Errorf("generate --overrides gives other policies than the panel showed:\n%s", firstDiff(shown, gen.out))
	}
	if denied := deniedEdges(t, win, gen.out); !slices.Equal(denied, []string{untick}) {
		t.Errorf("with the saved overrides the engine denies %q, want exactly %q", denied, untick)
	}
	// The control: without the overrides, the engine denies nothing seen.
	plain := mustRun(t, "generate", "--db", db, "--until", exampleUntil)
	if denied := deniedEdges(t, win, plain.out); len(denied) != 0 {
		t.Errorf("without overrides the engine denies %q, want nothing", denied)
	}

	// The diff tab is what flowpol diff prints against the same policies.
	do(t, ctx, chromedp.Click(chromedp.ID("tab-diff")))
	diffShown := cdpRun(t, ctx, chromedp.TextContent(chromedp.ID("yaml")))
	d := run(t, "", "diff", "--db", db, "--until", exampleUntil, "--overrides", ovPath, "--against", repoFile("testdata", "check", "policies"))
	if d.code != 1 || d.out != diffShown {
		t.Errorf("the diff tab is not flowpol diff's (exit %d):\n%s", d.code, firstDiff(d.out, diffShown))
	}

	if errs := b.Errors(); len(errs) > 0 {
		t.Errorf("the page reported errors:\n%s", strings.Join(errs, "\n"))
	}
	shot := cdpRun(t, ctx, chromedp.CaptureScreenshot())
	checkUIScreenshot(t, shot, 1280, 900)
	if *update {
		if err := os.WriteFile(repoFile("docs", "ui.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func cdpRun[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func exampleWindow(t *testing.T, db string) *topology.Window {
	t.Helper()
	store, err := boltdb.Open(db, boltdb.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	until, err := time.Parse(time.RFC3339, exampleUntil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := store.Window(context.Background(), until.Add(-3*time.Hour), until)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

type drawnNode struct {
	ID      string  `json:"id"`
	X       float64 `json:"x"`
	Y       float64 `json:"y"`
	W       float64 `json:"w"`
	H       float64 `json:"h"`
	Visible bool    `json:"visible"`
}

// checkDrawn: every workload and every end of an edge is on the map, of
// some size, inside the map's box.
func checkDrawn(t *testing.T, ctx context.Context, win *topology.Window) {
	t.Helper()
	drawn := cdpRun(t, ctx, chromedp.Evaluate[[]drawnNode](`flowpolMap.drawn()`))
	box := cdpRun(t, ctx, chromedp.Evaluate[struct{ W, H float64 }](`(() => { const r = document.getElementById('map').getBoundingClientRect(); return {W: r.width, H: r.height}; })()`))
	want := map[string]bool{}
	for ref := range win.Workloads {
		want[ref.String()] = true
	}
	for _, e := range win.Edges {
		want[e.Src.String()], want[e.Dst.String()] = true, true
	}
	for _, n := range drawn {
		if !want[n.ID] {
			t.Errorf("the map draws %s, which the window does not have", n.ID)
			continue
		}
		delete(want, n.ID)
		if !n.Visible || n.W <= 0 || n.H <= 0 || n.X < 0 || n.Y < 0 || n.X+n.W > box.W+1 || n.Y+n.H > box.H+1 {
			t.Errorf("%s is not drawn inside the map (%gx%g): %+v", n.ID, box.W, box.H, n)
		}
	}
	for id := range want {
		t.Errorf("the map does not draw %s", id)
	}
}

// revision is the page's latest revision of the edits.
func revision(t *testing.T, ctx context.Context) int {
	t.Helper()
	s := cdpRun(t, ctx, chromedp.Evaluate[string](`document.body.dataset.revision`))
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("the page's revision %q: %v", s, err)
	}
	return n
}

// settled waits until the page's latest revision is at least min and the
// panel and the map show the server's answer for it.
func settled(t *testing.T, ctx context.Context, min int) {
	t.Helper()
	do(t, ctx, chromedp.Poll[chromedp.Void](`(b => +b.revision >= `+strconv.Itoa(min)+` && b.shown === b.revision)(document.body.dataset)`, chromedp.WithPollingTimeout(30*time.Second)))
}

// clickNode clicks an end on the map where it is drawn.
func clickNode(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	at := cdpRun(t, ctx, chromedp.Evaluate[struct{ X, Y float64 }](`(() => {
		const n = flowpolMap.drawn().find(n => n.id === `+strconv.Quote(id)+`);
		const r = document.getElementById('map').getBoundingClientRect();
		return {X: r.left + n.x + n.w / 2, Y: r.top + n.y + n.h / 2};
	})()`))
	do(t, ctx, chromedp.MouseClickXY(at.X, at.Y))
	do(t, ctx, chromedp.Poll[chromedp.Void](`document.getElementById('selected').textContent === `+strconv.Quote(id), chromedp.WithPollingTimeout(10*time.Second)))
}

// deniedEdges loads the example's pods and the generated policies into
// np-guard's engine, judges every observed edge between workloads pod by
// pod, and returns the edges it denies for some pair of pods.
func deniedEdges(t *testing.T, win *topology.Window, policiesYAML string) []string {
	t.Helper()
	inv, err := inventory.LoadFile(repoFile("testdata", "example", "cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	pe := policyEngine(t, inv, policiesYAML)
	judged := 0
	var denied []string
	for _, e := range win.Edges {
		if e.Src.Kind != topology.KindWorkload || e.Dst.Kind != topology.KindWorkload {
			continue
		}
		label := e.Src.String() + " -> " + e.Dst.String() + " " + strconv.Itoa(int(e.Port)) + "/" + e.Proto.String()
		for _, s := range podsOf(inv, win, e.Src.Workload) {
			for _, d := range podsOf(inv, win, e.Dst.Workload) {
				if s == d {
					continue // a pod may always reach itself
				}
				ok, err := pe.CheckIfAllowed(s, d, e.Proto.String(), strconv.Itoa(int(e.Port)))
				if err != nil {
					t.Fatalf("engine on %s: %v", label, err)
				}
				judged++
				if !ok && !slices.Contains(denied, label) {
					denied = append(denied, label)
				}
			}
		}
	}
	if judged < 5 {
		t.Fatalf("%d pod pairs judged: the fixture lost its pods", judged)
	}
	return denied
}

func policyEngine(t *testing.T, inv *inventory.Inventory, policiesYAML string) *npguard.Engine {
	t.Helper()
	set, err := policyfile.Load("-", strings.NewReader(policiesYAML), policyfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var objs []runtime.Object
	for i := range inv.Namespaces {
		objs = append(objs, inv.Namespaces[i].DeepCopy())
	}
	for i := range inv.Pods {
		p := inv.Pods[i].DeepCopy()
		if p.Spec.HostNetwork || len(p.Status.PodIPs) == 0 {
			continue
		}
		// Without owners the engine judges each pod by its own labels.
		p.OwnerReferences = nil
		p.Status.HostIP = "192.0.2.1"
		objs = append(objs, p)
	}
	ps := set.NetworkPolicies()
	for i := range ps {
		objs = append(objs, ps[i].DeepCopy())
	}
	pe, err := npguard.Start(t).NewEngine()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if err := pe.InsertObject(o); err != nil {
			t.Fatalf("insert %T into the engine: %v", o, err)
		}
	}
	return pe
}

// podsOf are the namespace/name of the pods whose labels are one of the
// workload's pods' label sets, as learned.
func podsOf(inv *inventory.Inventory, win *topology.Window, ref topology.WorkloadRef) []string {
	var out []string
	for _, p := range inv.Pods {
		if p.Namespace != ref.Namespace || p.Spec.HostNetwork || len(p.Status.PodIPs) == 0 {
			continue
		}
		if slices.ContainsFunc(win.Workloads[ref].PodLabels, func(l map[string]string) bool { return labels.Equals(l, p.Labels) }) {
			out = append(out, p.Namespace+"/"+p.Name)
		}
	}
	return out
}

// checkUIScreenshot: a PNG of the window's size, not blank, with the red
// of a denied link.
func checkUIScreenshot(t *testing.T, shot []byte, w, h int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("screenshot is %dx%d, want %dx%d", b.Dx(), b.Dy(), w, h)
	}
	colours := map[[3]uint32]bool{}
	red := 0
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 2 {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 2 {
			r, g, b := rgb(img, x, y)
			colours[[3]uint32{r >> 4, g >> 4, b >> 4}] = true
			if r > 180 && g < 90 && b < 90 {
				red++
			}
		}
	}
	if len(colours) < 20 {
		t.Errorf("screenshot has %d colours: blank?", len(colours))
	}
	if red < 10 {
		t.Errorf("screenshot has %d red pixels: the unticked link is not drawn red", red)
	}
}

func rgb(img image.Image, x, y int) (uint32, uint32, uint32) {
	r, g, b, _ := img.At(x, y).RGBA()
	return r >> 8, g >> 8, b >> 8
}
