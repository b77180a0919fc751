package kubestate

import (
	"cmp"
	"maps"
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/flowpol/flowpol/resolve"
	"github.com/flowpol/flowpol/topology"
)

// wlState is a workload with pods: counts of its pods' distinct label sets
// and named ports, and the facts derived from them.
type wlState struct {
	ref       topology.WorkloadRef
	pods      int
	labelSets map[string]*labelSet // by labels.Set.String()
	ports     map[topology.ContainerPort]int
	sel       labels.Selector // facts.Selector, compiled; nil when none
	facts     topology.Workload
	changed   uint64 // the version that last changed facts; zero: not derived yet
}

type labelSet struct {
	labels map[string]string
	n      int
}

func (w *wlState) labelMaps() []map[string]string {
	keys := slices.Sorted(maps.Keys(w.labelSets))
	out := make([]map[string]string, len(keys))
	for i, k := range keys {
		out[i] = w.labelSets[k].labels
	}
	return out
}

func (w *wlState) portList() []topology.ContainerPort {
	out := slices.Collect(maps.Keys(w.ports))
	slices.SortFunc(out, func(a, b topology.ContainerPort) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Proto, b.Proto))
	})
	return out
}

// selectsAny says whether sel selects one of the workload's pods.
func (w *wlState) selectedBy(sel labels.Selector) bool {
	for _, ls := range w.labelSets {
		if sel.Matches(labels.Set(ls.labels)) {
			return true
		}
	}
	return false
}

// join counts a pod in its workload.
func (r *Resolver) join(ref topology.WorkloadRef, p *corev1.Pod) {
	w := r.workloads[ref]
	if w == nil {
		w = &wlState{ref: ref, labelSets: map[string]*labelSet{}, ports: map[topology.ContainerPort]int{}}
		r.workloads[ref] = w
		if r.byNS[ref.Namespace] == nil {
			r.byNS[ref.Namespace] = map[topology.WorkloadRef]*wlState{}
		}
		r.byNS[ref.Namespace][ref] = w
	}
	w.pods++
	key := labels.Set(p.Labels).String()
	if ls := w.labelSets[key]; ls != nil {
		ls.n++
	} else {
		w.labelSets[key] = &labelSet{labels: p.Labels, n: 1}
	}
	for _, cp := range resolve.NamedPorts([]*corev1.Pod{p}) {
		w.ports[cp]++
	}
}

// leave uncounts a pod that join counted.
func (r *Resolver) leave(ref topology.WorkloadRef, p *corev1.Pod) {
	w := r.workloads[ref]
	if w == nil {
		return
	}
	w.pods--
	key := labels.Set(p.Labels).String()
	if ls := w.labelSets[key]; ls != nil {
		if ls.n--; ls.n == 0 {
			delete(w.labelSets, key)
		}
	}
	for _, cp := range resolve.NamedPorts([]*corev1.Pod{p}) {
		if w.ports[cp]--; w.ports[cp] <= 0 {
			delete(w.ports, cp)
		}
	}
}

// recomputeWorkload derives a workload's facts again, and the overlaps
// of the others in its namespace with it; what changes gets version v.
func (r *Resolver) recomputeWorkload(ref topology.WorkloadRef, v uint64) bool {
	w := r.workloads[ref]
	if w == nil {
		return false
	}
	if w.pods <= 0 {
		r.removeWorkload(w, v)
		return true
	}
	fresh := w.changed == 0
	f := topology.Workload{Ref: ref, Selector: r.selectorOf(w), DNSPorts: r.dns[ref], PodLabels: w.labelMaps(), Ports: w.portList(), Overlaps: w.facts.Overlaps,
		LoadBalancers: r.loadBalancers(ref)}
	if fresh || !reflect.DeepEqual(f.Selector, w.facts.Selector) {
		w.sel = compile(f.Selector)
		f.Overlaps = r.overlapsOf(w)
	}
	if fresh || !reflect.DeepEqual(f.PodLabels, w.facts.PodLabels) {
		r.propagate(w, v)
	}
	if fresh || !reflect.DeepEqual(f, w.facts) {
		w.facts, w.changed = f, v
		return true
	}
	return false
}

// overlapsOf returns the other workloads in w's namespace whose pods w's
// selector selects.
func (r *Resolver) overlapsOf(w *wlState) []topology.WorkloadRef {
	if w.sel == nil {
		return nil
	}
	var out []topology.WorkloadRef
	for ref, o := range r.byNS[w.ref.Namespace] {
		if o != w && o.pods > 0 && o.selectedBy(w.sel) {
			out = append(out, ref)
		}
	}
	slices.SortFunc(out, topology.WorkloadRef.Compare)
	return out
}

// propagate updates the overlaps of the other workloads in w's namespace
// with w, whose pods' labels changed.
func (r *Resolver) propagate(w *wlState, v uint64) {
	for _, o := range r.byNS[w.ref.Namespace] {
		if o == w || o.sel == nil || o.changed == 0 {
			continue
		}
		r.setOverlap(o, w.ref, w.pods > 0 && w.selectedBy(o.sel), v)
	}
}

// setOverlap says whether o overlaps ref.
func (r *Resolver) setOverlap(o *wlState, ref topology.WorkloadRef, has bool, v uint64) {
	i, found := slices.BinarySearchFunc(o.facts.Overlaps, ref, topology.WorkloadRef.Compare)
	if found == has {
		return
	}
	ov := slices.Clone(o.facts.Overlaps)
	if has {
		ov = slices.Insert(ov, i, ref)
	} else {
		ov = slices.Delete(ov, i, i+1)
	}
	if len(ov) == 0 {
		ov = nil
	}
	o.facts.Overlaps, o.changed = ov, v
}

// removeWorkload forgets a workload whose last pod went.
func (r *Resolver) removeWorkload(w *wlState, v uint64) {
	delete(r.workloads, w.ref)
	ns := r.byNS[w.ref.Namespace]
	delete(ns, w.ref)
	if len(ns) == 0 {
		delete(r.byNS, w.ref.Namespace)
	}
	for _, o := range ns {
		if o.changed != 0 {
			r.setOverlap(o, w.ref, false, v)
		}
	}
}

// Workloads returns what the generator needs of the workloads with pods
// whose facts changed since version since (zero: all), and the current
// version.
func (r *Resolver) Workloads(since uint64) (map[topology.WorkloadRef]topology.Workload, uint64) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := map[topology.WorkloadRef]topology.Workload{}
	for ref, w := range r.workloads {
		if w.changed > since {
			out[ref] = w.facts
		}
	}
	return out, r.version
}
