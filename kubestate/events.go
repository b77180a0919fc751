package kubestate

import (
	"net/netip"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flowpol/flowpol/resolve"
	"github.com/flowpol/flowpol/topology"
)

// dirty is what an event touched: the addresses, Services and workloads
// to derive again.
type dirty struct {
	addrs     map[netip.Addr]struct{}
	services  map[nsName]struct{}
	workloads map[topology.WorkloadRef]struct{}
	ranges    bool // the nodes' pod ranges
	nodes     bool // the nodes' addresses, a cluster fact
}

func newDirty() *dirty {
	return &dirty{addrs: map[netip.Addr]struct{}{}, services: map[nsName]struct{}{}, workloads: map[topology.WorkloadRef]struct{}{}}
}

func (d *dirty) workload(ref topology.WorkloadRef) { d.workloads[ref] = struct{}{} }

// update runs f with the write lock held and derives again what it
// touched.
func (r *Resolver) update(f func(d *dirty)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := newDirty()
	f(d)
	r.expire(d)
	r.flush(d)
	r.schedule()
	r.publish()
}

// flush derives again, in order, what d names: the addresses' holders,
// the Services (whose targets name the holders), the addresses of the
// Services that changed, and the workloads.
func (r *Resolver) flush(d *dirty) {
	if d.ranges {
		r.setRanges(d)
	}
	for a := range d.addrs {
		if r.refreshAddr(a) {
			for _, s := range byIndex[discoveryv1.EndpointSlice](r.inf.slices.GetIndexer(), byAddr, a.String()) {
				r.markSlice(s, d)
			}
		}
	}
	svcAddrs := map[netip.Addr]struct{}{}
	for n := range d.services {
		r.recomputeService(n, svcAddrs, d)
	}
	for a := range svcAddrs {
		r.refreshAddr(a)
	}
	v, changed := r.version+1, d.nodes || d.ranges // cluster facts
	for ref := range d.workloads {
		changed = r.recomputeWorkload(ref, v) || changed
	}
	if changed {
		r.version = v
	}
}

// markPod marks what a pod's coming or going touches: its addresses, and
// the Services that name it or select it.
func (r *Resolver) markPod(p *corev1.Pod, d *dirty) {
	for _, a := range resolve.PodAddrs(p) {
		d.addrs[a] = struct{}{}
	}
	for _, s := range byIndex[discoveryv1.EndpointSlice](r.inf.slices.GetIndexer(), byPod, p.Namespace+"/"+p.Name) {
		r.markSlice(s, d)
	}
	for k, v := range p.Labels {
		for _, svc := range byIndex[corev1.Service](r.inf.services.GetIndexer(), bySelector, p.Namespace+"/"+k+"="+v) {
			if selects(svc.Spec.Selector, p.Labels) {
				d.services[nsName{svc.Namespace, svc.Name}] = struct{}{}
			}
		}
	}
}

func (r *Resolver) markSlice(s *discoveryv1.EndpointSlice, d *dirty) {
	if name := s.Labels[discoveryv1.LabelServiceName]; name != "" {
		d.services[nsName{s.Namespace, name}] = struct{}{}
	}
}

func (r *Resolver) onPod(old, cur any) {
	r.update(func(d *dirty) {
		if cur == nil {
			if p, ok := old.(*corev1.Pod); ok {
				r.bury(p, d)
			}
			return
		}
		p, ok := cur.(*corev1.Pod)
		if !ok {
			return
		}
		if was, ok := old.(*corev1.Pod); ok && was.UID != p.UID {
			r.bury(was, d) // gone without a deletion event, replaced by a pod of the same name
		}
		if g, ok, _ := r.graves.GetByKey(string(p.UID)); ok {
			r.graves.Delete(g) //nolint:errcheck // keyed by uid, which a pod from the store has: no error to report; back: the deletion was not final
		}
		r.dropEntry(string(p.UID), d)
		r.addEntry(p, d)
	})
}

// addEntry indexes a pod by uid and counts it in its workload.
func (r *Resolver) addEntry(p *corev1.Pod, d *dirty) {
	ref, w := r.refOf(p)
	r.uids[string(p.UID)] = &podEntry{pod: p, ref: ref, wl: w}
	r.pods.set(hashString(r.seed, string(p.UID)), string(p.UID), ref)
	if !p.Spec.HostNetwork {
		r.join(w, p)
		d.workload(w)
	}
	r.markPod(p, d)
}

// dropEntry undoes addEntry.
func (r *Resolver) dropEntry(uid string, d *dirty) {
	e := r.uids[uid]
	if e == nil {
		return
	}
	delete(r.uids, uid)
	r.pods.delete(hashString(r.seed, uid), uid)
	if !e.pod.Spec.HostNetwork {
		r.leave(e.wl, e.pod)
		d.workload(e.wl)
	}
	r.markPod(e.pod, d)
}

// podEntry is a pod as indexed: live, or deleted within the grace period.
type podEntry struct {
	pod *corev1.Pod
	ref podRef
	wl  topology.WorkloadRef // zero for a hostNetwork pod
}

// reassign derives a pod's workload again after its owners changed.
func (r *Resolver) reassign(pods []*corev1.Pod, d *dirty) {
	for _, p := range pods {
		e := r.uids[string(p.UID)]
		if e == nil || e.pod.Spec.HostNetwork {
			continue
		}
		if ref, w := r.refOf(e.pod); ref != e.ref {
			r.leave(e.wl, e.pod)
			d.workload(e.wl)
			e.ref, e.wl = ref, w
			r.pods.set(hashString(r.seed, string(p.UID)), string(p.UID), ref)
			r.join(w, e.pod)
			d.workload(w)
			r.markPod(e.pod, d)
		}
	}
}

// controlled returns the pods, live and deleted, an index holds under key.
func (r *Resolver) controlled(index, key string) []*corev1.Pod {
	return append(byIndex[corev1.Pod](r.inf.pods.GetIndexer(), index, key), byIndex[corev1.Pod](r.graves, index, key)...)
}

func (r *Resolver) onReplicaSet(old, cur any) {
	onOwner(r, old, cur, "ReplicaSet", byController, func(o *appsv1.ReplicaSet) string { return o.Namespace + "/ReplicaSet/" + o.Name })
}

func (r *Resolver) onDeployment(old, cur any) {
	onOwner(r, old, cur, "Deployment", byDeployment, func(o *appsv1.Deployment) string { return o.Namespace + "/" + o.Name })
}

func (r *Resolver) onJob(old, cur any) {
	onOwner(r, old, cur, "Job", byController, func(o *batchv1.Job) string { return o.Namespace + "/Job/" + o.Name })
}

// onOwner follows an owner of pods, before and after an event: the pods
// an index holds under its key may now belong to another workload, and
// its own workload's facts change.
func onOwner[O metav1.Object](r *Resolver, old, cur any, kind, index string, key func(O) string) {
	r.update(func(d *dirty) {
		for _, o := range []any{old, cur} {
			if obj, ok := o.(O); ok {
				r.reassign(r.controlled(index, key(obj)), d)
				d.workload(topology.WorkloadRef{Namespace: obj.GetNamespace(), Kind: kind, Name: obj.GetName()})
			}
		}
	})
}

// onController follows the controllers whose objects only give their
// workloads' selectors: StatefulSets, DaemonSets and CronJobs.
func (r *Resolver) onController(old, cur any) {
	r.update(func(d *dirty) {
		for _, o := range []any{old, cur} {
			var kind string
			switch o.(type) {
			case *appsv1.StatefulSet:
				kind = "StatefulSet"
			case *appsv1.DaemonSet:
				kind = "DaemonSet"
			case *batchv1.CronJob:
				kind = "CronJob"
			default:
				continue
			}
			if m, err := metaOf(o); err == nil {
				d.workload(topology.WorkloadRef{Namespace: m.GetNamespace(), Kind: kind, Name: m.GetName()})
			}
		}
	})
}

func (r *Resolver) onNode(old, cur any) {
	r.update(func(d *dirty) {
		var cidrs [2][]string
		var addrs [2][]netip.Addr
		for i, o := range []any{old, cur} {
			if n, ok := o.(*corev1.Node); ok {
				addrs[i] = resolve.NodeAddrs(n)
				for _, a := range addrs[i] {
					d.addrs[a] = struct{}{}
				}
				cidrs[i] = append([]string{n.Spec.PodCIDR}, n.Spec.PodCIDRs...)
			}
		}
		d.ranges = !slices.Equal(cidrs[0], cidrs[1])
		if !slices.Equal(addrs[0], addrs[1]) {
			d.nodes = true
			r.setNode(old, cur, addrs[1])
		}
	})
}

// setNode keeps the cluster facts' node addresses as the node changed.
func (r *Resolver) setNode(old, cur any, addrs []netip.Addr) {
	if n, ok := old.(*corev1.Node); ok {
		delete(r.cluster.Nodes, n.Name)
	}
	if n, ok := cur.(*corev1.Node); ok && len(addrs) > 0 {
		if r.cluster.Nodes == nil {
			r.cluster.Nodes = map[string][]netip.Addr{}
		}
		r.cluster.Nodes[n.Name] = addrs
	}
}

// setRanges derives the cluster ranges again from the options and the
// nodes' pod ranges, and marks the Services whose targets they may move.
func (r *Resolver) setRanges(d *dirty) {
	ps := slices.Clone(r.opts.ClusterCIDRs)
	for _, o := range r.inf.nodes.GetStore().List() {
		n, ok := o.(*corev1.Node)
		if !ok {
			continue
		}
		ps = append(ps, resolve.NodePodCIDRs(n)...)
	}
	r.internal, r.stale = newRanges(ps), true
	for n, st := range r.services {
		if st.outside {
			d.services[n] = struct{}{}
		}
	}
}

func (r *Resolver) onNamespace(old, cur any) {
	r.update(func(*dirty) {
		if ns, ok := old.(*corev1.Namespace); ok {
			delete(r.cluster.Namespaces, ns.Name)
		}
		if ns, ok := cur.(*corev1.Namespace); ok {
			r.cluster.Namespaces[ns.Name] = ns.Labels
		}
	})
}

func (r *Resolver) onService(old, cur any) {
	r.update(func(d *dirty) {
		for _, o := range []any{old, cur} {
			if svc, ok := o.(*corev1.Service); ok {
				d.services[nsName{svc.Namespace, svc.Name}] = struct{}{}
			}
		}
	})
}

func (r *Resolver) onSlice(old, cur any) {
	r.update(func(d *dirty) {
		for _, o := range []any{old, cur} {
			if s, ok := o.(*discoveryv1.EndpointSlice); ok {
				r.markSlice(s, d)
			}
		}
	})
}
