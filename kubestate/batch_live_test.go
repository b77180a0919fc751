package kubestate_test

import (
	"context"
	"slices"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flowpol/flowpol/internal/kubeenv"
	"github.com/flowpol/flowpol/kubestate"
	"github.com/flowpol/flowpol/topology"
)

// TestBatchRunsLive: a CronJob's lastScheduleTime and a Job's completion
// time, set by a real API server's status subresource, reach the cluster
// facts through the informers' transform, which keeps them. If it failed,
// the aggregator's windows would warn of every CronJob as never run, or of
// none.
func TestBatchRunsLive(t *testing.T) {
	env := kubeenv.Start(t)
	cs := env.Client()
	base(t, cs)
	ctx := context.Background()
	last := metav1.NewTime(time.Date(2026, 11, 15, 3, 0, 0, 0, time.UTC))
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "report"}},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "c", Image: "img"}}}}
	cj, err := cs.BatchV1().CronJobs("app").Create(ctx, &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "report"},
		Spec: batchv1.CronJobSpec{Schedule: "0 3 * * 0", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: tmpl}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cj.Status.LastScheduleTime = &last
	if _, err := cs.BatchV1().CronJobs("app").UpdateStatus(ctx, cj, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	started, done := metav1.NewTime(last.Add(time.Hour)), metav1.NewTime(last.Add(2*time.Hour))
	job, err := cs.BatchV1().Jobs("app").Create(ctx, &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "migrate"}, Spec: batchv1.JobSpec{Template: tmpl}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	job.Status = batchv1.JobStatus{StartTime: &started, CompletionTime: &done, Succeeded: 1, Conditions: []batchv1.JobCondition{
		{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: done},
		{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: done}}}
	if _, err := cs.BatchV1().Jobs("app").UpdateStatus(ctx, job, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	r := startResolver(t, cs, kubestate.ResolverOptions{})
	want := []topology.BatchRun{
		{Ref: resolveRef("app", "CronJob", "report"), Schedule: "0 3 * * 0", Last: last.UTC()},
		{Ref: resolveRef("app", "Job", "migrate"), Last: done.UTC()},
	}
	same := func(a, b topology.BatchRun) bool {
		return a.Ref == b.Ref && a.Schedule == b.Schedule && a.Last.Equal(b.Last) && a.Active == b.Active
	}
	got := r.Cluster().Batch
	deadline := time.Now().Add(30 * time.Second)
	for !slices.EqualFunc(got, want, same) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		got = r.Cluster().Batch
	}
	if !slices.EqualFunc(got, want, same) {
		t.Errorf("batch runs %+v, want %+v", got, want)
	}
}
