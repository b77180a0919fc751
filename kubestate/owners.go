package kubestate

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/flowpol/flowpol/resolve"
	"github.com/flowpol/flowpol/topology"
)

// refOf is where a pod resolves to: a hostNetwork pod to its node's
// address, any other to its workload, which it also returns.
func (r *Resolver) refOf(p *corev1.Pod) (podRef, topology.WorkloadRef) {
	if p.Spec.HostNetwork {
		return podRef{end: r.ends.intern(resolve.HostEnd(p)), pod: resolve.PodIdentity(p), host: true, node: p.Spec.NodeName}, topology.WorkloadRef{}
	}
	w := resolve.TopWorkload(p, owners{&r.inf})
	return podRef{end: r.ends.intern(topology.End{Kind: topology.KindWorkload, Workload: w}), pod: resolve.PodIdentity(p), node: p.Spec.NodeName}, w
}

// selectorOf returns the stable selector of a workload (see
// resolve.WorkloadSelector), from its pods' distinct label sets.
func (r *Resolver) selectorOf(w *wlState) *metav1.LabelSelector {
	sets := w.labelMaps()
	pods := make([]*corev1.Pod, len(sets))
	for i, ls := range sets {
		pods[i] = &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: ls}}
	}
	return resolve.WorkloadSelector(w.ref, owners{&r.inf}, pods)
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
