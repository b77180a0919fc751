package generator_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/generator"
	"github.com/flowpol/flowpol/topology"
)

// coverageWindow is a week: web calls api every day of it, a new
// Deployment (fresh) calls api on its last day only, and the weekly
// CronJob report last ran the week before; in ops a Job ran inside.
func coverageWindow() *topology.Window {
	t0 := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	day := t0.Unix() / 86400
	ref := func(ns, kind, name string) topology.WorkloadRef {
		return topology.WorkloadRef{Namespace: ns, Kind: kind, Name: name}
	}
	web, api, fresh := ref("shop", "Deployment", "web"), ref("shop", "Deployment", "api"), ref("shop", "Deployment", "fresh")
	end := func(r topology.WorkloadRef) topology.End {
		return topology.End{Kind: topology.KindWorkload, Workload: r}
	}
	all := []int64{day, day + 1, day + 2, day + 3, day + 4, day + 5, day + 6}
	wl := func(r topology.WorkloadRef) topology.Workload {
		return topology.Workload{Ref: r, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": r.Name}}}
	}
	return &topology.Window{
		From: t0, To: t0.Add(7 * 24 * time.Hour),
		Edges: []topology.EdgeStats{
			{Edge: topology.Edge{Src: end(web), Dst: end(api), Port: 8080, Proto: flow.TCP}, Count: 70,
				First: t0.Add(time.Hour), Last: t0.Add(6*24*time.Hour + time.Hour), Days: all},
			{Edge: topology.Edge{Src: end(fresh), Dst: end(api), Port: 8080, Proto: flow.TCP}, Count: 3,
				First: t0.Add(6*24*time.Hour + 2*time.Hour), Last: t0.Add(6*24*time.Hour + 3*time.Hour), Days: []int64{day + 6}},
		},
		Workloads: map[topology.WorkloadRef]topology.Workload{web: wl(web), api: wl(api), fresh: wl(fresh)},
		Cluster: topology.Cluster{Batch: []topology.BatchRun{
			{Ref: ref("ops", "Job", "migrate"), Last: t0.Add(time.Hour)},
			{Ref: ref("shop", "CronJob", "report"), Schedule: "0 3 * * 0", Last: t0.Add(-6 * 24 * time.Hour)},
			{Ref: ref("shop", "CronJob", "weekly"), Schedule: "0 4 * * 0"},
		}},
	}
}

// TestMinCoverage: workloads observed over less than the minimum get no
// policy and are listed as held back, their namespace's default deny is
// held back with them, every policy says its days with traffic, and the
// CronJobs with no run inside the window are warned of. If it failed, a
// workload seen for an hour would be locked to that hour's traffic, or a
// default deny would cut it off, or a weekly job's traffic would go
// missing unsaid.
func TestMinCoverage(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     generator.Options
		policies []string
		heldBack []string
	}{
		{name: "no minimum", policies: []string{"flowpol-deployment-api", "flowpol-deployment-fresh", "flowpol-deployment-web"}},
		{name: "default deny, no minimum", opts: generator.Options{DefaultDeny: true},
			policies: []string{generator.DefaultDenyName, "flowpol-deployment-api", "flowpol-deployment-fresh", "flowpol-deployment-web"}},
		{name: "a day", opts: generator.Options{MinCoverage: 24 * time.Hour},
			policies: []string{"flowpol-deployment-api", "flowpol-deployment-web"},
			heldBack: []string{"shop/Deployment/fresh: observed 1 day with traffic over 1h0m (2026-11-22T02:00:00Z to 2026-11-22T03:00:00Z), less than the minimum coverage 24h: no policy"}},
		{name: "a day, with default deny", opts: generator.Options{MinCoverage: 24 * time.Hour, DefaultDeny: true},
			policies: []string{"flowpol-deployment-api", "flowpol-deployment-web"},
			heldBack: []string{
				"shop/Deployment/fresh: observed 1 day with traffic over 1h0m (2026-11-22T02:00:00Z to 2026-11-22T03:00:00Z), less than the minimum coverage 24h: no policy",
				"shop/flowpol-default-deny: no default deny: workloads in it are held back for the minimum coverage",
			}},
		{name: "more than the window", opts: generator.Options{MinCoverage: 8 * 24 * time.Hour}, heldBack: []string{
			"shop/Deployment/api: observed 7 days with traffic over 6d2h (2026-11-16T01:00:00Z to 2026-11-22T03:00:00Z), less than the minimum coverage 8d: no policy",
			"shop/Deployment/fresh: observed 1 day with traffic over 1h0m (2026-11-22T02:00:00Z to 2026-11-22T03:00:00Z), less than the minimum coverage 8d: no policy",
			"shop/Deployment/web: observed 7 days with traffic over 6d0h (2026-11-16T01:00:00Z to 2026-11-22T01:00:00Z), less than the minimum coverage 8d: no policy",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, cilium := range []bool{false, true} {
				res, names := generate(t, coverageWindow(), tc.opts, cilium)
				if !slices.Equal(names, tc.policies) {
					t.Errorf("cilium %v: policies %v, want %v", cilium, names, tc.policies)
				}
				if !slices.Equal(res.HeldBack, tc.heldBack) {
					t.Errorf("cilium %v: held back\n%s\nwant\n%s", cilium, strings.Join(res.HeldBack, "\n"), strings.Join(tc.heldBack, "\n"))
				}
				wantWarn := []string{
					"shop/CronJob/report: no run inside the window (last scheduled 2026-11-10T00:00:00Z): its traffic is not in these policies",
					"shop/CronJob/weekly: no run inside the window (never scheduled): its traffic is not in these policies",
				}
				if !slices.Equal(res.Warnings, wantWarn) {
					t.Errorf("cilium %v: warnings\n%s\nwant\n%s", cilium, strings.Join(res.Warnings, "\n"), strings.Join(wantWarn, "\n"))
				}
			}
		})
	}
}

// generate runs either generator and returns its result and the names of
// its policies; it checks each policy's observed days.
func generate(t *testing.T, w *topology.Window, opts generator.Options, cilium bool) (*generator.Result, []string) {
	t.Helper()
	wantDays := map[string]string{"flowpol-deployment-api": "7", "flowpol-deployment-web": "7", "flowpol-deployment-fresh": "1"}
	var names []string
	check := func(name string, a map[string]string) {
		names = append(names, name)
		if want, ok := wantDays[name]; ok && a[generator.AnnotationObservedDays] != want {
			t.Errorf("%s: %s %q, want %q", name, generator.AnnotationObservedDays, a[generator.AnnotationObservedDays], want)
		}
	}
	if cilium {
		res, err := generator.GenerateCilium(w, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range res.Cilium {
			check(p.Name, p.Annotations)
		}
		return &res.Result, names
	}
	res := generator.Generate(w, opts)
	for _, p := range res.Policies {
		check(p.Name, p.Annotations)
	}
	return res, names
}

// TestNotRunScope: a batch workload in a namespace that gets no policies
// is not warned of. If it failed, kube-system's CronJobs would fill every
// run's warnings.
func TestNotRunScope(t *testing.T) {
	res := generator.Generate(coverageWindow(), generator.Options{SkipNamespaces: []string{"shop"}})
	if len(res.Warnings) != 0 {
		t.Errorf("warnings %q, want none: shop is skipped and ops' Job ran inside the window", res.Warnings)
	}
	res = generator.Generate(coverageWindow(), generator.Options{Namespace: "ops"})
	if len(res.Warnings) != 0 {
		t.Errorf("warnings %q, want none: only ops, whose Job ran inside", res.Warnings)
	}
}
