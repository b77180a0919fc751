package resolve

import (
	"slices"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flowpol/flowpol/topology"
)

// TestBatchRuns: a CronJob's last run is its lastScheduleTime, a Job's its
// completion (its start while it runs), a CronJob's own Jobs are not
// listed apart, and a run under way is marked. If it failed, generate
// would warn of jobs that ran, or not warn of those that did not.
func TestBatchRuns(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *metav1.Time { m := metav1.NewTime(t0.Add(d)); return &m }
	yes := true
	cron := func(name string, last *metav1.Time, active int) *batchv1.CronJob {
		c := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: "ops", Name: name}, Spec: batchv1.CronJobSpec{Schedule: "0 3 * * 0"},
			Status: batchv1.CronJobStatus{LastScheduleTime: last}}
		for range active {
			c.Status.Active = append(c.Status.Active, corev1.ObjectReference{Kind: "Job", Name: name + "-1"})
		}
		return c
	}
	job := func(name string, start, done *metav1.Time, active int32, owner string) *batchv1.Job {
		j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "ops", Name: name},
			Status: batchv1.JobStatus{StartTime: start, CompletionTime: done, Active: active}}
		if owner != "" {
			j.OwnerReferences = []metav1.OwnerReference{{Kind: "CronJob", Name: owner, Controller: &yes}}
		}
		return j
	}
	ref := func(kind, name string) topology.WorkloadRef {
		return topology.WorkloadRef{Namespace: "ops", Kind: kind, Name: name}
	}
	for _, tc := range []struct {
		name  string
		crons []*batchv1.CronJob
		jobs  []*batchv1.Job
		want  []topology.BatchRun
	}{
		{name: "none"},
		{name: "cronjob last scheduled", crons: []*batchv1.CronJob{cron("report", at(0), 0)},
			want: []topology.BatchRun{{Ref: ref("CronJob", "report"), Schedule: "0 3 * * 0", Last: t0}}},
		{name: "cronjob never scheduled", crons: []*batchv1.CronJob{cron("report", nil, 0)},
			want: []topology.BatchRun{{Ref: ref("CronJob", "report"), Schedule: "0 3 * * 0"}}},
		{name: "cronjob running", crons: []*batchv1.CronJob{cron("report", at(0), 1)},
			want: []topology.BatchRun{{Ref: ref("CronJob", "report"), Schedule: "0 3 * * 0", Last: t0, Active: true}}},
		{name: "job completed", jobs: []*batchv1.Job{job("migrate", at(0), at(time.Hour), 0, "")},
			want: []topology.BatchRun{{Ref: ref("Job", "migrate"), Last: t0.Add(time.Hour)}}},
		{name: "job running", jobs: []*batchv1.Job{job("migrate", at(0), nil, 1, "")},
			want: []topology.BatchRun{{Ref: ref("Job", "migrate"), Last: t0, Active: true}}},
		{name: "a cronjob's jobs are its runs", crons: []*batchv1.CronJob{cron("report", at(0), 0)},
			jobs: []*batchv1.Job{job("report-29000", at(0), at(time.Minute), 0, "report"), job("adhoc", nil, nil, 0, "")},
			want: []topology.BatchRun{{Ref: ref("CronJob", "report"), Schedule: "0 3 * * 0", Last: t0}, {Ref: ref("Job", "adhoc")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := BatchRuns(tc.crons, tc.jobs)
			if !slices.EqualFunc(got, tc.want, func(a, b topology.BatchRun) bool {
				return a.Ref == b.Ref && a.Schedule == b.Schedule && a.Last.Equal(b.Last) && a.Active == b.Active
			}) {
				t.Errorf("runs %+v, want %+v", got, tc.want)
			}
		})
	}
}
