package resolve

import (
	"slices"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flowpol/flowpol/topology"
)

// BatchRuns are the last runs of the CronJobs and of the Jobs no CronJob
// owns (a CronJob's Jobs are its runs), sorted by workload.
func BatchRuns(cronJobs []*batchv1.CronJob, jobs []*batchv1.Job) []topology.BatchRun {
	var out []topology.BatchRun
	for _, c := range cronJobs {
		out = append(out, CronJobRun(c))
	}
	for _, j := range jobs {
		if up := metav1.GetControllerOf(j); up != nil && up.Kind == "CronJob" {
			continue
		}
		out = append(out, JobRun(j))
	}
	slices.SortFunc(out, func(a, b topology.BatchRun) int { return a.Ref.Compare(b.Ref) })
	return out
}

// CronJobRun is a CronJob's last run: when it was last scheduled, and
// whether a run is under way.
func CronJobRun(c *batchv1.CronJob) topology.BatchRun {
	return topology.BatchRun{Ref: topology.WorkloadRef{Namespace: c.Namespace, Kind: "CronJob", Name: c.Name},
		Schedule: c.Spec.Schedule, Last: timeOf(c.Status.LastScheduleTime), Active: len(c.Status.Active) > 0}
}

// JobRun is a Job's run: when it completed (or started, while it has
// not), and whether it is under way.
func JobRun(j *batchv1.Job) topology.BatchRun {
	last := timeOf(j.Status.CompletionTime)
	if last.IsZero() {
		last = timeOf(j.Status.StartTime)
	}
	return topology.BatchRun{Ref: topology.WorkloadRef{Namespace: j.Namespace, Kind: "Job", Name: j.Name},
		Last: last, Active: j.Status.Active > 0}
}

func timeOf(t *metav1.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
