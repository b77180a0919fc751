package topology

import (
	"testing"
	"time"
)

var (
	t0  = time.Date(2026, 11, 20, 23, 0, 0, 0, time.UTC)
	day = int64(t0.Unix() / 86400)
	api = End{Kind: KindWorkload, Workload: WorkloadRef{Namespace: "shop", Kind: "Deployment", Name: "api"}}
	web = End{Kind: KindWorkload, Workload: WorkloadRef{Namespace: "shop", Kind: "Deployment", Name: "web"}}
	job = WorkloadRef{Namespace: "shop", Kind: "CronJob", Name: "report"}
	ext = End{Kind: KindExternal}
)

func edge(src, dst End, first, last time.Duration, days ...int64) EdgeStats {
	return EdgeStats{Edge: Edge{Src: src, Dst: dst, Port: 80}, Count: 1, First: t0.Add(first), Last: t0.Add(last), Days: days}
}

// TestCoverage: a workload's span runs from the first to the last moment
// of any edge it is an end of, and its days are the distinct days of
// those edges. If it failed, --min-coverage would hold back (or let
// through) the wrong workloads and flowpol.io/observed-days would lie.
func TestCoverage(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edges []EdgeStats
		want  map[WorkloadRef]Coverage
	}{
		{name: "none"},
		{
			name:  "one edge, two ends",
			edges: []EdgeStats{edge(web, api, 0, 2*time.Hour, day, day+1)},
			want: map[WorkloadRef]Coverage{
				web.Workload: {First: t0, Last: t0.Add(2 * time.Hour), Days: 2},
				api.Workload: {First: t0, Last: t0.Add(2 * time.Hour), Days: 2},
			},
		},
		{
			name: "days shared between edges count once, span is the union",
			edges: []EdgeStats{
				edge(web, api, time.Hour, 2*time.Hour, day+1),
				edge(api, ext, 48*time.Hour, 72*time.Hour, day+2, day+3),
				edge(ext, api, 30*time.Minute, 90*time.Minute, day, day+1),
			},
			want: map[WorkloadRef]Coverage{
				web.Workload: {First: t0.Add(time.Hour), Last: t0.Add(2 * time.Hour), Days: 1},
				api.Workload: {First: t0.Add(30 * time.Minute), Last: t0.Add(72 * time.Hour), Days: 4},
			},
		},
		{
			name:  "ends that are not workloads have none",
			edges: []EdgeStats{edge(ext, End{Kind: KindOwnNode}, 0, time.Hour, day)},
			want:  map[WorkloadRef]Coverage{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &Window{Edges: tc.edges}
			got := w.Coverage()
			if len(got) != len(tc.want) {
				t.Fatalf("coverage of %d workloads, want %d: %v", len(got), len(tc.want), got)
			}
			for ref, c := range tc.want {
				if g := got[ref]; !g.First.Equal(c.First) || !g.Last.Equal(c.Last) || g.Days != c.Days {
					t.Errorf("%s: %+v, want %+v", ref, g, c)
				}
			}
		})
	}
}

// TestNotRun: a CronJob or Job is reported when it last ran before the
// window, never ran, and no run is under way, unless the window has its
// traffic. If it failed, a weekly job's traffic would silently be in no
// policy, or a job that did run would be reported missing.
func TestNotRun(t *testing.T) {
	from := t0
	jobEnd := End{Kind: KindWorkload, Workload: job}
	for _, tc := range []struct {
		name  string
		run   BatchRun
		edges []EdgeStats
		want  bool
	}{
		{name: "last scheduled before the window", run: BatchRun{Ref: job, Schedule: "0 3 * * 0", Last: from.Add(-time.Hour)}, want: true},
		{name: "never scheduled", run: BatchRun{Ref: job, Schedule: "0 3 * * 0"}, want: true},
		{name: "scheduled at the window's start", run: BatchRun{Ref: job, Last: from}},
		{name: "scheduled inside", run: BatchRun{Ref: job, Last: from.Add(time.Hour)}},
		{name: "running now", run: BatchRun{Ref: job, Last: from.Add(-time.Hour), Active: true}},
		{name: "traffic in the window", run: BatchRun{Ref: job, Last: from.Add(-time.Hour)}, edges: []EdgeStats{edge(jobEnd, api, 0, 0, day)}},
		{name: "Job finished before", run: BatchRun{Ref: WorkloadRef{Namespace: "shop", Kind: "Job", Name: "migrate"}, Last: from.Add(-time.Minute)}, want: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &Window{From: from, To: from.Add(7 * 24 * time.Hour), Edges: tc.edges, Cluster: Cluster{Batch: []BatchRun{tc.run}}}
			got := w.NotRun()
			if (len(got) == 1) != tc.want || len(got) > 1 {
				t.Errorf("not run: %v, want reported %v", got, tc.want)
			}
		})
	}
}

// TestUnixDay: days start at UTC midnight, before 1970 too. If it
// failed, traffic just after midnight would count on the day before.
func TestUnixDay(t *testing.T) {
	for _, tc := range []struct {
		ms   int64
		want int64
	}{{0, 0}, {86400*1000 - 1, 0}, {86400 * 1000, 1}, {-1, -1}, {-86400 * 1000, -1}, {-86400*1000 - 1, -2}} {
		if got := UnixDay(tc.ms); got != tc.want {
			t.Errorf("UnixDay(%d) = %d, want %d", tc.ms, got, tc.want)
		}
	}
}

// TestCoverageString: the text people read. If it failed, held-back
// lines and the topology would show a garbled span.
func TestCoverageString(t *testing.T) {
	for _, tc := range []struct {
		c    Coverage
		want string
	}{
		{Coverage{First: t0, Last: t0.Add(6*24*time.Hour + 2*time.Hour + 5*time.Minute), Days: 3}, "3 days with traffic over 6d2h"},
		{Coverage{First: t0, Last: t0.Add(5*time.Hour + 12*time.Minute), Days: 1}, "1 day with traffic over 5h12m"},
		{Coverage{First: t0, Last: t0.Add(90 * time.Second), Days: 1}, "1 day with traffic over 1m30s"},
		{Coverage{First: t0, Last: t0, Days: 1}, "1 day with traffic over 0s"},
	} {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.c, got, tc.want)
		}
	}
}
