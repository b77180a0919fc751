package ui_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"os"
	"strconv"
	"testing"
	"time"

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
// the page uses and those it was chosen over.
func BenchmarkFirstPaint(b *testing.B) {
	w := bigWindow(50, 40)
	srv, err := ui.New(ui.Options{Window: w, Generate: generator.Options{SkipNamespaces: []string{"kube-system"}}, OverridesPath: b.TempDir() + "/o.yaml"})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	b.Cleanup(hs.Close)
	layouts := []string{"", "fcose-default", "cose"}
	if os.Getenv("FLOWPOL_BENCH_LAYOUTS") == "one" {
		layouts = layouts[:1]
	}
	for _, layout := range layouts {
		name := layout
		if name == "" {
			name = "fcose-draft"
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
				if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`))); err != nil {
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
