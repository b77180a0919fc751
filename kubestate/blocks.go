package kubestate

import (
	"cmp"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/flowpol/flowpol/resolve"
)

// holdsBetter is resolve.HoldsBetter, with pods alike in every way it
// looks at told apart by uid, so that the answer does not depend on the
// order events came in.
func holdsBetter(p, q *corev1.Pod) bool {
	if resolve.HoldsBetter(p, q) {
		return true
	}
	return !resolve.HoldsBetter(q, p) && p.UID < q.UID
}

func compareTarget(a, b resolve.Target) int {
	return cmp.Or(cmp.Compare(a.End, b.End), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Pod, b.Pod))
}

func appendTarget(ts []resolve.Target, t resolve.Target) []resolve.Target {
	if slices.Contains(ts, t) {
		return ts
	}
	return append(ts, t)
}

// selects says whether a Service's selector selects a pod's labels.
func selects(sel, labels map[string]string) bool {
	for k, v := range sel {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// owners finds controllers in the informers' stores.
type owners struct{ s *informerSet }

var _ resolve.Owners = owners{}

func (o owners) ReplicaSet(ns, name string) *appsv1.ReplicaSet {
	return get[appsv1.ReplicaSet](o.s.replicaSets, ns, name)
}
func (o owners) Deployment(ns, name string) *appsv1.Deployment {
	return get[appsv1.Deployment](o.s.deployments, ns, name)
}
func (o owners) StatefulSet(ns, name string) *appsv1.StatefulSet {
	return get[appsv1.StatefulSet](o.s.statefulSets, ns, name)
}
func (o owners) DaemonSet(ns, name string) *appsv1.DaemonSet {
	return get[appsv1.DaemonSet](o.s.daemonSets, ns, name)
}
func (o owners) Job(ns, name string) *batchv1.Job { return get[batchv1.Job](o.s.jobs, ns, name) }
func (o owners) CronJob(ns, name string) *batchv1.CronJob {
	return get[batchv1.CronJob](o.s.cronJobs, ns, name)
}
