package resolve

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/topology"
)

// Owners finds the controllers of a cluster by namespace and name; each
// returns nil for one it does not know. An inventory's index and a live
// cluster's listers both serve.
type Owners interface {
	ReplicaSet(ns, name string) *appsv1.ReplicaSet
	Deployment(ns, name string) *appsv1.Deployment
	StatefulSet(ns, name string) *appsv1.StatefulSet
	DaemonSet(ns, name string) *appsv1.DaemonSet
	Job(ns, name string) *batchv1.Job
	CronJob(ns, name string) *batchv1.CronJob
}

// TopWorkload follows a pod's controller references to its top
// controller: Pod → ReplicaSet → Deployment, Pod → Job → CronJob, Pod →
// StatefulSet or DaemonSet. A pod with no controller is its own workload.
// A ReplicaSet o does not know is taken for its Deployment's when its name
// is a Deployment's o knows with the pod's pod-template-hash.
func TopWorkload(pod *corev1.Pod, o Owners) topology.WorkloadRef {
	ns := pod.Namespace
	ref := metav1.GetControllerOf(pod)
	if ref == nil {
		return topology.WorkloadRef{Namespace: ns, Kind: "Pod", Name: pod.Name}
	}
	switch ref.Kind {
	case "ReplicaSet":
		return replicaSetOwner(pod, ref.Name, o)
	case "Job":
		if job := o.Job(ns, ref.Name); job != nil {
			if up := metav1.GetControllerOf(job); up != nil && up.Kind == "CronJob" {
				return topology.WorkloadRef{Namespace: ns, Kind: up.Kind, Name: up.Name}
			}
		}
	}
	return topology.WorkloadRef{Namespace: ns, Kind: ref.Kind, Name: ref.Name}
}

func replicaSetOwner(pod *corev1.Pod, rsName string, o Owners) topology.WorkloadRef {
	ns := pod.Namespace
	if rs := o.ReplicaSet(ns, rsName); rs != nil {
		if up := metav1.GetControllerOf(rs); up != nil {
			return topology.WorkloadRef{Namespace: ns, Kind: up.Kind, Name: up.Name}
		}
		return topology.WorkloadRef{Namespace: ns, Kind: "ReplicaSet", Name: rsName}
	}
	// A Deployment names its ReplicaSets <deployment>-<pod-template-hash>.
	if hash := pod.Labels["pod-template-hash"]; hash != "" {
		if name, ok := strings.CutSuffix(rsName, "-"+hash); ok && o.Deployment(ns, name) != nil {
			return topology.WorkloadRef{Namespace: ns, Kind: "Deployment", Name: name}
		}
	}
	return topology.WorkloadRef{Namespace: ns, Kind: "ReplicaSet", Name: rsName}
}

// WorkloadSelector returns the stable selector of a workload: its
// controller's own selector, or for Jobs and CronJobs (whose selectors
// name one run) their pod template's labels; for a bare pod, or a
// controller o does not know, the labels all its pods share. Unstable keys
// are left out (see StableSelector); nil means nothing stable is left.
func WorkloadSelector(ref topology.WorkloadRef, o Owners, pods []*corev1.Pod) *metav1.LabelSelector {
	ns, name := ref.Namespace, ref.Name
	switch ref.Kind {
	case "Deployment":
		if d := o.Deployment(ns, name); d != nil {
			return StableSelector(d.Spec.Selector)
		}
	case "ReplicaSet":
		if rs := o.ReplicaSet(ns, name); rs != nil {
			return StableSelector(rs.Spec.Selector)
		}
	case "StatefulSet":
		if s := o.StatefulSet(ns, name); s != nil {
			return StableSelector(s.Spec.Selector)
		}
	case "DaemonSet":
		if d := o.DaemonSet(ns, name); d != nil {
			return StableSelector(d.Spec.Selector)
		}
	case "Job":
		if j := o.Job(ns, name); j != nil {
			return LabelSelector(j.Spec.Template.Labels)
		}
	case "CronJob":
		if c := o.CronJob(ns, name); c != nil {
			return LabelSelector(c.Spec.JobTemplate.Spec.Template.Labels)
		}
	}
	sets := make([]map[string]string, len(pods))
	for i, p := range pods {
		sets[i] = p.Labels
	}
	return LabelSelector(CommonLabels(sets))
}

// owners indexes the controllers of an inventory by namespace and name.
type owners struct {
	replicaSets  map[nsName]*appsv1.ReplicaSet
	deployments  map[nsName]*appsv1.Deployment
	statefulSets map[nsName]*appsv1.StatefulSet
	daemonSets   map[nsName]*appsv1.DaemonSet
	jobs         map[nsName]*batchv1.Job
	cronJobs     map[nsName]*batchv1.CronJob
}

var _ Owners = (*owners)(nil)

type nsName struct{ ns, name string }

func indexOwners(inv *inventory.Inventory) *owners {
	return &owners{
		replicaSets:  index(inv.ReplicaSets, func(x *appsv1.ReplicaSet) *metav1.ObjectMeta { return &x.ObjectMeta }),
		deployments:  index(inv.Deployments, func(x *appsv1.Deployment) *metav1.ObjectMeta { return &x.ObjectMeta }),
		statefulSets: index(inv.StatefulSets, func(x *appsv1.StatefulSet) *metav1.ObjectMeta { return &x.ObjectMeta }),
		daemonSets:   index(inv.DaemonSets, func(x *appsv1.DaemonSet) *metav1.ObjectMeta { return &x.ObjectMeta }),
		jobs:         index(inv.Jobs, func(x *batchv1.Job) *metav1.ObjectMeta { return &x.ObjectMeta }),
		cronJobs:     index(inv.CronJobs, func(x *batchv1.CronJob) *metav1.ObjectMeta { return &x.ObjectMeta }),
	}
}

func index[T any](items []T, meta func(*T) *metav1.ObjectMeta) map[nsName]*T {
	m := make(map[nsName]*T, len(items))
	for i := range items {
		md := meta(&items[i])
		m[nsName{md.Namespace, md.Name}] = &items[i]
	}
	return m
}

func (o *owners) ReplicaSet(ns, name string) *appsv1.ReplicaSet {
	return o.replicaSets[nsName{ns, name}]
}
func (o *owners) Deployment(ns, name string) *appsv1.Deployment {
	return o.deployments[nsName{ns, name}]
}
func (o *owners) StatefulSet(ns, name string) *appsv1.StatefulSet {
	return o.statefulSets[nsName{ns, name}]
}
func (o *owners) DaemonSet(ns, name string) *appsv1.DaemonSet { return o.daemonSets[nsName{ns, name}] }
func (o *owners) Job(ns, name string) *batchv1.Job            { return o.jobs[nsName{ns, name}] }
func (o *owners) CronJob(ns, name string) *batchv1.CronJob    { return o.cronJobs[nsName{ns, name}] }
