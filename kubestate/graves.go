package kubestate

import (
	"container/heap"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// bury keeps a deleted pod for the grace period, with the time it went:
// its deletion timestamp, else now.
func (r *Resolver) bury(p *corev1.Pod, d *dirty) {
	g := p.DeepCopy()
	if g.DeletionTimestamp == nil {
		now := metav1.NewTime(r.opts.Now())
		g.DeletionTimestamp = &now
	}
	if err := r.graves.Update(g); err != nil {
		return // a pod without a uid: there is nothing to find it by
	}
	r.dropEntry(string(g.UID), d)
	r.addEntry(g, d)
	heap.Push(&r.expiry, grave{uid: string(g.UID), gone: g.DeletionTimestamp.Time})
}

// expire forgets the pods deleted more than the grace period ago.
func (r *Resolver) expire(d *dirty) {
	cutoff := r.opts.Now().Add(-r.opts.Grace)
	for len(r.expiry) > 0 && r.expiry[0].gone.Before(cutoff) {
		x := heap.Pop(&r.expiry).(grave)
		o, ok, _ := r.graves.GetByKey(x.uid)
		g, _ := o.(*corev1.Pod)
		if !ok || g == nil || !g.DeletionTimestamp.Time.Equal(x.gone) {
			continue // back alive, or buried again later
		}
		r.graves.Delete(g) //nolint:errcheck // keyed by uid, which a pod from the store has: no error to report
		if e := r.uids[x.uid]; e != nil && e.pod == g {
			r.dropEntry(x.uid, d)
		}
	}
}

// schedule sets the timer for the next expiry.
func (r *Resolver) schedule() {
	if len(r.expiry) == 0 {
		return
	}
	wait := r.expiry[0].gone.Add(r.opts.Grace).Sub(r.opts.Now()) + time.Millisecond
	if r.timer == nil {
		r.timer = time.AfterFunc(wait, func() { r.update(func(*dirty) {}) })
		return
	}
	r.timer.Reset(wait)
}

// grave is a deleted pod's uid and deletion time, ordered by the time.
type grave struct {
	uid  string
	gone time.Time
}

type graveQueue []grave

func (q graveQueue) Len() int           { return len(q) }
func (q graveQueue) Less(i, j int) bool { return q[i].gone.Before(q[j].gone) }
func (q graveQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *graveQueue) Push(x any)        { *q = append(*q, x.(grave)) }
func (q *graveQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}
