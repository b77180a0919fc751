package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/profiler"
	"github.com/chromedp/chromedp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/generator"
	"github.com/flowpol/flowpol/internal/browser"
	"github.com/flowpol/flowpol/topology"
	"github.com/flowpol/flowpol/ui"
)

// bigWindow is a cluster of namespaces × perNamespace workloads, each
// calling the next two in its namespace and one in the next namespace,
// with every tenth calling an external address.
func bigWindow(namespaces, perNamespace int) *topology.Window {
	to := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	w := &topology.Window{From: to.Add(-3 * time.Hour), To: to, Workloads: map[topology.WorkloadRef]topology.Workload{}}
	ref := func(ns, i int) topology.WorkloadRef {
		return topology.WorkloadRef{Namespace: fmt.Sprintf("team-%02d", ns%namespaces), Kind: "Deployment", Name: fmt.Sprintf("svc-%03d", i%perNamespace)}
	}
	end := func(r topology.WorkloadRef) topology.End {
		return topology.End{Kind: topology.KindWorkload, Workload: r}
	}
	for ns := range namespaces {
		for i := range perNamespace {
			r := ref(ns, i)
			w.Workloads[r] = topology.Workload{Ref: r, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": r.Name}}, PodLabels: []map[string]string{{"app": r.Name}}}
		}
	}
	add := func(src, dst topology.End, port uint16) {
		w.Edges = append(w.Edges, topology.EdgeStats{Edge: topology.Edge{Src: src, Dst: dst, Port: port, Proto: flow.TCP},
			Count: 10, First: w.From.Add(time.Minute), Last: to.Add(-time.Minute), SrcPods: 2, DstPods: 2, Nodes: []string{"node-a"}})
	}
	for ns := range namespaces {
		for i := range perNamespace {
			src := end(ref(ns, i))
			add(src, end(ref(ns, i+1)), 8080)
			add(src, end(ref(ns, i+2)), 8080)
			add(src, end(ref(ns+1, i)), 9090)
			if i%10 == 0 {
				add(src, topology.End{Kind: topology.KindExternal, Addr: netip.AddrFrom4([4]byte{203, 0, 113, byte(ns)})}, 443)
			}
		}
	}
	return w
}

// BenchmarkFirstPaint loads the page for 2,000 workloads in headless
// Chromium and reports how long, from the start of navigation, until the
// map is drawn and Save overrides can be used (usable-ms), and until the
// Policies panel holds the server's answer (policies-ms), for the layout
// the page uses (grid, past 400 ends) and those it was chosen over:
// fCoSE in its draft mode, and Cytoscape's cose. FLOWPOL_BENCH_LAYOUTS=one
// measures the page's alone; FLOWPOL_BENCH_PROFILE=DIR also writes each
// load's JavaScript CPU profile there and logs where it went.
func BenchmarkFirstPaint(b *testing.B) {
	w := bigWindow(50, 40)
	srv, err := ui.New(ui.Options{Window: w, Generate: generator.Options{SkipNamespaces: []string{"kube-system"}}, OverridesPath: b.TempDir() + "/o.yaml"})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	b.Cleanup(hs.Close)
	layouts := []string{"", "fcose-draft", "cose"}
	if os.Getenv("FLOWPOL_BENCH_LAYOUTS") == "one" {
		layouts = layouts[:1]
	}
	for _, layout := range layouts {
		name := layout
		if name == "" {
			name = "grid"
		}
		b.Run(name, func(b *testing.B) {
			br := browser.New(b, browser.Options{})
			url := hs.URL + "/?token=" + srv.Token()
			if layout != "" {
				url += "&layout=" + layout
			}
			var usable, policies float64
			for range b.N {
				ctx, cancel := context.WithTimeout(br.Ctx, 5*time.Minute)
				stop := startProfile(b, ctx)
				if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(`body[data-usable-ms]`))); err != nil {
					cancel()
					b.Fatal(err)
				}
				stop(name)
				if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`))); err != nil {
					cancel()
					b.Fatal(err)
				}
				marks, err := chromedp.Run(ctx, chromedp.Evaluate[string](`performance.getEntriesByType('mark').map(m => m.name + '=' + Math.round(m.startTime)).join(' ')`))
				if err != nil {
					b.Fatal(err)
				}
				b.Logf("marks (ms from navigation): %s", marks)
				ms, err := chromedp.Run(ctx, chromedp.Evaluate[[2]string](`[document.body.dataset.usableMs, document.body.dataset.readyMs]`))
				cancel()
				if err != nil {
					b.Fatal(err)
				}
				u, _ := strconv.ParseFloat(ms[0], 64)
				p, _ := strconv.ParseFloat(ms[1], 64)
				usable, policies = usable+u, policies+p
			}
			b.ReportMetric(usable/float64(b.N), "usable-ms")
			b.ReportMetric(policies/float64(b.N), "policies-ms")
			b.ReportMetric(0, "ns/op")
			if errs := br.Errors(); len(errs) > 0 {
				b.Errorf("the page reported errors: %v", errs)
			}
		})
	}
}

// startProfile, when FLOWPOL_BENCH_PROFILE names a directory, records the
// page's JavaScript CPU profile until the returned func is called (once the
// page is usable), which
// writes it there as NAME.cpuprofile (Chromium's DevTools open it) and
// logs the functions that took the most CPU themselves.
func startProfile(b *testing.B, ctx context.Context) func(name string) {
	dir := os.Getenv("FLOWPOL_BENCH_PROFILE")
	if dir == "" {
		return func(string) {}
	}
	if _, err := chromedp.Call(ctx, profiler.Enable, cdp.Empty{}); err != nil {
		b.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, profiler.SetSamplingInterval, profiler.SetSamplingIntervalParams{Interval: 200}); err != nil {
		b.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, profiler.Start, cdp.Empty{}); err != nil {
		b.Fatal(err)
	}
	return func(name string) {
		res, err := chromedp.Call(ctx, profiler.Stop, cdp.Empty{})
		if err != nil {
			b.Fatal(err)
		}
		data, err := json.Marshal(res.Profile)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".cpuprofile"), data, 0o644); err != nil {
			b.Fatal(err)
		}
		b.Logf("CPU by function (self, ms):\n%s", topSelf(res.Profile, 25))
	}
}

// topSelf sums each function's own samples and lists the n largest.
func topSelf(p *profiler.Profile, n int) string {
	byID := map[int64]*profiler.ProfileNode{}
	for _, node := range p.Nodes {
		byID[node.ID] = node
	}
	self := map[string]float64{}
	for i, id := range p.Samples {
		if i >= len(p.TimeDeltas) {
			break
		}
		f := byID[id].CallFrame
		key := fmt.Sprintf("%s %s:%d", f.FunctionName, filepath.Base(f.URL), f.LineNumber+1)
		self[key] += float64(p.TimeDeltas[i]) / 1000
	}
	keys := make([]string, 0, len(self))
	for k := range self {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return self[keys[i]] > self[keys[j]] })
	var out strings.Builder
	busy := 0.0
	for k, ms := range self {
		if !strings.HasPrefix(k, "(idle) ") {
			busy += ms
		}
	}
	fmt.Fprintf(&out, "%8.0f in all, but idle\n", busy)
	for _, k := range keys[:min(n, len(keys))] {
		fmt.Fprintf(&out, "%8.0f %s\n", self[k], k)
	}
	return out.String()
}
