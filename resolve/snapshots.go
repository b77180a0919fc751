package resolve

import (
	"time"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/topology"
)

// Snapshots is the interim resolver of a live cluster: a Static rebuilt
// from a newer snapshot of the cluster when it changed, asked at most once
// a second as records are placed. It gives way to a resolver that keeps
// its indexes current per informer event; until then it is today's
// behaviour behind the Resolver contract. It is not safe for concurrent
// use.
type Snapshots struct {
	cur     *Static
	refresh func() *inventory.Inventory
	now     func() time.Time
	asked   time.Time
	version uint64
}

var _ Resolver = (*Snapshots)(nil)

// NewSnapshots resolves with inv until refresh, which returns a newer
// inventory when the cluster changed since it was last asked and nil
// otherwise, gives a newer one. now is the clock; nil means time.Now.
func NewSnapshots(inv *inventory.Inventory, refresh func() *inventory.Inventory, now func() time.Time, opts Options) *Snapshots {
	if now == nil {
		now = time.Now
	}
	return &Snapshots{cur: New(inv, opts), refresh: refresh, now: now, asked: now(), version: 1}
}

// Place resolves rec's ends, after asking for a newer snapshot when the
// last ask is a second old. Unknown says the snapshot does not know the
// observing pod's uid, or an end is an unknown address in a pod range.
func (s *Snapshots) Place(rec *flow.Record, p *Placement) {
	if now := s.now(); now.Sub(s.asked) >= time.Second {
		s.asked = now
		if inv := s.refresh(); inv != nil {
			s.cur = s.cur.Rebuild(inv)
			s.version++
		}
	}
	s.cur.Place(rec, p)
	p.Unknown = s.unknown(rec, p)
}

func (s *Snapshots) unknown(rec *flow.Record, p *Placement) bool {
	if rec.PodUID != "" {
		if _, ok := s.cur.uids[rec.PodUID]; !ok {
			return true
		}
	}
	if s.unknownAddr(p.Src.End) {
		return true
	}
	for _, d := range p.Dsts {
		if s.unknownAddr(d.End) {
			return true
		}
	}
	return false
}

func (s *Snapshots) unknownAddr(id EndID) bool {
	e := &s.cur.ends[id]
	return e.Kind == topology.KindUnresolved && e.Reason == topology.ReasonUnknownClusterAddr
}

// End returns the end an id stands for.
func (s *Snapshots) End(id EndID) topology.End { return s.cur.End(id) }

// Workloads returns every workload of the current snapshot when since is
// older than it, else nothing. Each rebuild is a version.
func (s *Snapshots) Workloads(since uint64) (map[topology.WorkloadRef]topology.Workload, uint64) {
	if since >= s.version {
		return nil, s.version
	}
	return s.cur.workloads, s.version
}

// Cluster returns the current snapshot's cluster facts.
func (s *Snapshots) Cluster() topology.Cluster { return s.cur.cluster }
