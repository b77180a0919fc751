package kubestate

import (
	"net/netip"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/flowpol/flowpol/topology"
)

// refOf is where a pod resolves to: a hostNetwork pod to its node's
// address, any other to its workload, which it also returns.
func (r *Resolver) refOf(p *corev1.Pod) (podRef, topology.WorkloadRef) {
	if p.Spec.HostNetwork {
		addr := firstAddr(p)
		end := r.ends.intern(topology.End{Kind: topology.KindHost, Node: p.Spec.NodeName, Addr: addr})
		return podRef{end: end, pod: podIdentity(p), host: true}, topology.WorkloadRef{}
	}
	w := r.workloadOf(p)
	return podRef{end: r.ends.intern(topology.End{Kind: topology.KindWorkload, Workload: w}), pod: podIdentity(p)}, w
}

// firstAddr is a pod's status.podIP, or the zero address.
func firstAddr(p *corev1.Pod) netip.Addr {
	addr, _ := netip.ParseAddr(p.Status.PodIP) // the zero Addr when unset
	return addr.Unmap()
}

// workloadOf follows a pod's controller references to its top controller:
// Pod → ReplicaSet → Deployment, Pod → Job → CronJob, Pod → StatefulSet or
// DaemonSet. A pod with no controller is its own workload.
func (r *Resolver) workloadOf(pod *corev1.Pod) topology.WorkloadRef {
	ns := pod.Namespace
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil {
		return topology.WorkloadRef{Namespace: ns, Kind: "Pod", Name: pod.Name}
	}
	switch ref.Kind {
	case "ReplicaSet":
		return r.replicaSetOwner(pod, ref.Name)
	case "Job":
		if job := get[batchv1.Job](r.inf.jobs, ns, ref.Name); job != nil {
			if up := metav1.GetControllerOfNoCopy(job); up != nil && up.Kind == "CronJob" {
				return topology.WorkloadRef{Namespace: ns, Kind: up.Kind, Name: up.Name}
			}
		}
	}
	return topology.WorkloadRef{Namespace: ns, Kind: ref.Kind, Name: ref.Name}
}

func (r *Resolver) replicaSetOwner(pod *corev1.Pod, rsName string) topology.WorkloadRef {
	ns := pod.Namespace
	if rs := get[appsv1.ReplicaSet](r.inf.replicaSets, ns, rsName); rs != nil {
		if up := metav1.GetControllerOfNoCopy(rs); up != nil {
			return topology.WorkloadRef{Namespace: ns, Kind: up.Kind, Name: up.Name}
		}
		return topology.WorkloadRef{Namespace: ns, Kind: "ReplicaSet", Name: rsName}
	}
	// The ReplicaSet is not known: a Deployment names its ReplicaSets
	// <deployment>-<pod-template-hash>.
	if name, ok := deploymentByName(pod); ok && get[appsv1.Deployment](r.inf.deployments, ns, name) != nil {
		return topology.WorkloadRef{Namespace: ns, Kind: "Deployment", Name: name}
	}
	return topology.WorkloadRef{Namespace: ns, Kind: "ReplicaSet", Name: rsName}
}

// selectorOf returns the stable selector of a workload: its controller's own
// selector, or for Jobs and CronJobs (whose selectors name one run) their pod
// template's labels; for a bare pod, or a controller not known, the labels
// all its pods share. Unstable keys are left out.
func (r *Resolver) selectorOf(w *wlState) *metav1.LabelSelector {
	ns, name := w.ref.Namespace, w.ref.Name
	switch w.ref.Kind {
	case "Deployment":
		if d := get[appsv1.Deployment](r.inf.deployments, ns, name); d != nil {
			return stableSelector(d.Spec.Selector)
		}
	case "ReplicaSet":
		if rs := get[appsv1.ReplicaSet](r.inf.replicaSets, ns, name); rs != nil {
			return stableSelector(rs.Spec.Selector)
		}
	case "StatefulSet":
		if s := get[appsv1.StatefulSet](r.inf.statefulSets, ns, name); s != nil {
			return stableSelector(s.Spec.Selector)
		}
	case "DaemonSet":
		if d := get[appsv1.DaemonSet](r.inf.daemonSets, ns, name); d != nil {
			return stableSelector(d.Spec.Selector)
		}
	case "Job":
		if j := get[batchv1.Job](r.inf.jobs, ns, name); j != nil {
			return labelSelector(j.Spec.Template.Labels)
		}
	case "CronJob":
		if c := get[batchv1.CronJob](r.inf.cronJobs, ns, name); c != nil {
			return labelSelector(c.Spec.JobTemplate.Spec.Template.Labels)
		}
	}
	return labelSelector(commonLabels(w.labelMaps()))
}

// compile turns a workload's selector into one that matches label sets;
// nil when there is none, or it is one the API server would have refused.
func compile(sel *metav1.LabelSelector) labels.Selector {
	if sel == nil {
		return nil
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil
	}
	return s
}
