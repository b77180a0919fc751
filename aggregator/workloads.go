package aggregator

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/topology"
)

// owners indexes the controllers of an inventory by namespace and name.
type owners struct {
	replicaSets  map[nsName]*appsv1.ReplicaSet
	deployments  map[nsName]*appsv1.Deployment
	statefulSets map[nsName]*appsv1.StatefulSet
	daemonSets   map[nsName]*appsv1.DaemonSet
	jobs         map[nsName]*batchv1.Job
	cronJobs     map[nsName]*batchv1.CronJob
}

type nsName struct{ ns, name string }

func indexOwners(inv *inventory.Inventory) *owners {
	o := &owners{
		replicaSets:  index(inv.ReplicaSets, func(x *appsv1.ReplicaSet) *metav1.ObjectMeta { return &x.ObjectMeta }),
		deployments:  index(inv.Deployments, func(x *appsv1.Deployment) *metav1.ObjectMeta { return &x.ObjectMeta }),
		statefulSets: index(inv.StatefulSets, func(x *appsv1.StatefulSet) *metav1.ObjectMeta { return &x.ObjectMeta }),
		daemonSets:   index(inv.DaemonSets, func(x *appsv1.DaemonSet) *metav1.ObjectMeta { return &x.ObjectMeta }),
		jobs:         index(inv.Jobs, func(x *batchv1.Job) *metav1.ObjectMeta { return &x.ObjectMeta }),
		cronJobs:     index(inv.CronJobs, func(x *batchv1.CronJob) *metav1.ObjectMeta { return &x.ObjectMeta }),
	}
	return o
}

func index[T any](items []T, meta func(*T) *metav1.ObjectMeta) map[nsName]*T {
	m := make(map[nsName]*T, len(items))
	for i := range items {
		md := meta(&items[i])
		m[nsName{md.Namespace, md.Name}] = &items[i]
	}
	return m
}

// workloadOf follows a pod's controller references to its top controller:
// Pod → ReplicaSet → Deployment, Pod → Job → CronJob, Pod → StatefulSet or
// DaemonSet. A pod with no controller is its own workload.
func (o *owners) workloadOf(pod *corev1.Pod) topology.WorkloadRef {
	ns := pod.Namespace
	ref := metav1.GetControllerOf(pod)
	if ref == nil {
		return topology.WorkloadRef{Namespace: ns, Kind: "Pod", Name: pod.Name}
	}
	switch ref.Kind {
	case "ReplicaSet":
		return o.replicaSetOwner(pod, ref.Name)
	case "Job":
		if job := o.jobs[nsName{ns, ref.Name}]; job != nil {
			if up := metav1.GetControllerOf(job); up != nil && up.Kind == "CronJob" {
				return topology.WorkloadRef{Namespace: ns, Kind: up.Kind, Name: up.Name}
			}
		}
	}
	return topology.WorkloadRef{Namespace: ns, Kind: ref.Kind, Name: ref.Name}
}

func (o *owners) replicaSetOwner(pod *corev1.Pod, rsName string) topology.WorkloadRef {
	ns := pod.Namespace
	if rs := o.replicaSets[nsName{ns, rsName}]; rs != nil {
		if up := metav1.GetControllerOf(rs); up != nil {
			return topology.WorkloadRef{Namespace: ns, Kind: up.Kind, Name: up.Name}
		}
		return topology.WorkloadRef{Namespace: ns, Kind: "ReplicaSet", Name: rsName}
	}
	// The ReplicaSet is not in the inventory: a Deployment names its
	// ReplicaSets <deployment>-<pod-template-hash>.
	if hash := pod.Labels["pod-template-hash"]; hash != "" {
		if name, ok := strings.CutSuffix(rsName, "-"+hash); ok {
			if _, known := o.deployments[nsName{ns, name}]; known {
				return topology.WorkloadRef{Namespace: ns, Kind: "Deployment", Name: name}
			}
		}
	}
	return topology.WorkloadRef{Namespace: ns, Kind: "ReplicaSet", Name: rsName}
}

// selectorOf returns the stable selector of a workload: its controller's own
// selector, or for Jobs and CronJobs (whose selectors name one run) their pod
// template's labels; for a bare pod, or a controller missing from the
// inventory, the labels all its pods share. Unstable keys are left out.
func (o *owners) selectorOf(ref topology.WorkloadRef, pods []*corev1.Pod) *metav1.LabelSelector {
	key := nsName{ref.Namespace, ref.Name}
	switch ref.Kind {
	case "Deployment":
		if d := o.deployments[key]; d != nil {
			return stableSelector(d.Spec.Selector)
		}
	case "ReplicaSet":
		if rs := o.replicaSets[key]; rs != nil {
			return stableSelector(rs.Spec.Selector)
		}
	case "StatefulSet":
		if s := o.statefulSets[key]; s != nil {
			return stableSelector(s.Spec.Selector)
		}
	case "DaemonSet":
		if d := o.daemonSets[key]; d != nil {
			return stableSelector(d.Spec.Selector)
		}
	case "Job":
		if j := o.jobs[key]; j != nil {
			return labelSelector(j.Spec.Template.Labels)
		}
	case "CronJob":
		if c := o.cronJobs[key]; c != nil {
			return labelSelector(c.Spec.JobTemplate.Spec.Template.Labels)
		}
	}
	sets := make([]map[string]string, len(pods))
	for i, p := range pods {
		sets[i] = p.Labels
	}
	return labelSelector(commonLabels(sets))
}
