package cli_test

import (
	"context"
	"encoding/json"
	"html"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline/boltdb"
)

const exampleUntil = "2026-11-22T12:00:00Z"

// Each picture of the example, with the reviewer's edited policies of
// testdata/check marking what they would deny, has a golden file.
func TestTopologyFormatsGolden(t *testing.T) {
	db := learnScenario(t, "example")
	for _, format := range []string{"dot", "mermaid", "html"} {
		t.Run(format, func(t *testing.T) {
			r := mustRun(t, "topology", "--db", db, "--until", exampleUntil, "--format", format, "--policies", repoFile("testdata", "check", "policies"))
			golden(t, repoFile("testdata", "example", "topology."+format+".golden"), r.out)
		})
	}
}

// --policies marks exactly the flows check denies: in the table, a DENIED
// column; without it, nothing is red.
func TestTopologyPolicies(t *testing.T) {
	db := learnScenario(t, "example")
	policies := repoFile("testdata", "check", "policies")
	tests := []struct {
		name       string
		args       []string
		want       []string
		wantNot    []string
		wantDenied int // lines that mark a denial
	}{
		{name: "table with policies", args: []string{"--policies", policies}, want: []string{"DENIED"}, wantDenied: 4}, // 2 flows, each at both ends
		{name: "table without", wantNot: []string{"DENIED", "denied"}},
		{name: "dot with policies", args: []string{"--format", "dot", "--policies", policies}, wantDenied: 2},
		{name: "dot without", args: []string{"--format", "dot"}, wantNot: []string{"denied", "#d62728"}},
		{name: "generated policies deny nothing", args: []string{"--format", "dot", "--policies", generatedPolicies(t, db)}, wantNot: []string{"denied"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := mustRun(t, append([]string{"topology", "--db", db, "--until", exampleUntil}, tt.args...)...).out
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
			if n := len(regexp.MustCompile(`(?m)denied.*$`).FindAllString(out, -1)); n != tt.wantDenied {
				t.Errorf("%d lines mark a denial, want %d:\n%s", n, tt.wantDenied, out)
			}
		})
	}
}

func generatedPolicies(t *testing.T, db string) string {
	dir := t.TempDir()
	mustRun(t, "generate", "--db", db, "--until", exampleUntil, "-o", dir)
	return dir
}

func TestTopologyErrors(t *testing.T) {
	db := learnScenario(t, "example")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad format", []string{"--format", "svg"}, `--format "svg": want table, dot, mermaid or html`},
		{"missing policies", []string{"--policies", filepath.Join(t.TempDir(), "none")}, "read policies: "},
		{"missing overrides", []string{"--policies", t.TempDir(), "--overrides", filepath.Join(t.TempDir(), "none.yaml")}, "none.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", append([]string{"topology", "--db", db, "--until", exampleUntil}, tt.args...)...)
			if r.code != 1 || !strings.Contains(r.err, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit 1 and %q", r.code, r.err, tt.want)
			}
		})
	}
}

// The HTML page, opened in headless Chromium, draws every end and every
// link of the example, the denied ones red: the page's script lists the
// node and link elements that have a size, and the screenshot has the
// picture's colours. With -update the screenshot becomes docs/topology.png.
func TestTopologyHTMLInChromium(t *testing.T) {
	chromium := requireChromium(t)
	db := learnScenario(t, "example")
	dir := t.TempDir()
	page := filepath.Join(dir, "topology.html")
	r := mustRun(t, "topology", "--db", db, "--until", exampleUntil, "--format", "html", "--policies", repoFile("testdata", "check", "policies"))
	writeFile(t, page, r.out)
	if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:|//)`).FindString(r.out); m != "" {
		t.Errorf("the page fetches from the network: %s", m)
	}
	wantNodes, wantEdges := exampleGraph(t, db)
	dom := runChromium(t, chromium, dir, "--dump-dom", "file://"+page)
	got := renderedSummary(t, dom)
	if !slices.Equal(sorted(got.Nodes), wantNodes) {
		t.Errorf("rendered nodes:\n%s\nwant:\n%s", strings.Join(sorted(got.Nodes), "\n"), strings.Join(wantNodes, "\n"))
	}
	if !slices.Equal(sorted(got.Edges), wantEdges) {
		t.Errorf("rendered links:\n%s\nwant:\n%s", strings.Join(sorted(got.Edges), "\n"), strings.Join(wantEdges, "\n"))
	}
	shot := filepath.Join(dir, "topology.png")
	runChromium(t, chromium, dir, "--screenshot="+shot, "--window-size=1000,940", "--hide-scrollbars", "file://"+page)
	checkScreenshot(t, shot)
	if *update {
		b, err := os.ReadFile(shot)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(repoFile("docs", "topology.png"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// requireChromium finds Debian's chromium: missing, the test fails in CI
// (which installs it) and is skipped elsewhere.
func requireChromium(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("chromium")
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("chromium is not installed, and CI installs it: %v", err)
	}
	t.Skip("needs chromium (apt-get install chromium)")
	return ""
}

func runChromium(t *testing.T, chromium, dir string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// --no-sandbox: the tests run as root, where Chromium's sandbox
	// refuses to start; the page is our own file.
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=" + filepath.Join(dir, "profile")}
	cmd := exec.CommandContext(ctx, chromium, append(base, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

type rendered struct {
	Nodes []string `json:"nodes"`
	Edges []string `json:"edges"`
}

func renderedSummary(t *testing.T, dom string) rendered {
	t.Helper()
	m := regexp.MustCompile(`<pre id="rendered"[^>]*>([^<]*)</pre>`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the page's script wrote no summary into #rendered:\n%.2000s", dom)
	}
	var r rendered
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &r); err != nil {
		t.Fatalf("summary %q: %v", m[1], err)
	}
	return r
}

// exampleGraph is what the page must draw: every end of the window's
// edges, and one link per pair of ends, the two the edited policies deny
// marked.
func exampleGraph(t *testing.T, db string) (nodes, edges []string) {
	t.Helper()
	s, err := boltdb.Open(db, boltdb.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	until, _ := time.Parse(time.RFC3339, exampleUntil)
	w, err := s.Window(t.Context(), until.Add(-3*time.Hour), until)
	if err != nil {
		t.Fatal(err)
	}
	denied := map[string]bool{
		"shop/Deployment/frontend -> shop/Deployment/api":            true,
		"shop/Deployment/frontend -> kube-system/Deployment/coredns": true,
	}
	for _, e := range w.Edges {
		nodes = append(nodes, e.Src.String(), e.Dst.String())
		name := e.Src.String() + " -> " + e.Dst.String()
		if denied[name] {
			name += " [denied]"
		}
		edges = append(edges, name)
	}
	if len(edges) < 10 {
		t.Fatalf("the example has %d edges; the test expects its full topology", len(edges))
	}
	return slices.Compact(sorted(nodes)), slices.Compact(sorted(edges))
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// checkScreenshot fails on a blank or unstyled page: a picture has many
// colours, a fair share of non-white pixels, and red for the denied links.
func checkScreenshot(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	colours := map[[3]uint32]bool{}
	var inked, red, total int
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			colours[[3]uint32{r, g, bl}] = true
			total++
			if r < 240 || g < 240 || bl < 240 {
				inked++
			}
			if r > 180 && g < 80 && bl < 80 {
				red++
			}
		}
	}
	if len(colours) < 50 || inked < total/20 || red < 200 {
		t.Errorf("screenshot %dx%d looks blank: %d colours, %d of %d pixels not white, %d red", b.Dx(), b.Dy(), len(colours), inked, total, red)
	}
}
