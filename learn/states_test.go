package learn

import (
	"time"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/resolve"
	"github.com/flowpol/flowpol/topology"
)

// states stands in for a live cluster in the tests: the inventory
// resolver of the newest inventory refresh handed out, asked at most once
// a second as records are placed, saying Unknown as a live resolver does.
type states struct {
	cur     *resolve.Static
	uids    map[string]bool // of cur's pods
	refresh func() *inventory.Inventory
	now     func() time.Time
	asked   time.Time
	version uint64
}

var _ resolve.Resolver = (*states)(nil)

func newStates(inv *inventory.Inventory, refresh func() *inventory.Inventory, now func() time.Time) *states {
	if now == nil {
		now = time.Now
	}
	return &states{cur: resolve.New(inv, resolve.Options{}), uids: uidsOf(inv), refresh: refresh, now: now, asked: now(), version: 1}
}

func uidsOf(inv *inventory.Inventory) map[string]bool {
	out := map[string]bool{}
	for i := range inv.Pods {
		out[string(inv.Pods[i].UID)] = true
	}
	return out
}

func (s *states) Place(rec *flow.Record, p *resolve.Placement) {
	if now := s.now(); now.Sub(s.asked) >= time.Second {
		s.asked = now
		if inv := s.refresh(); inv != nil {
			s.cur, s.uids = s.cur.Rebuild(inv), uidsOf(inv)
			s.version++
		}
	}
	s.cur.Place(rec, p)
	p.Unknown = rec.PodUID != "" && !s.uids[rec.PodUID] || s.unknownAddr(p.Src.End)
	for _, d := range p.Dsts {
		p.Unknown = p.Unknown || s.unknownAddr(d.End)
	}
}

func (s *states) unknownAddr(id resolve.EndID) bool {
	e := s.cur.End(id)
	return e.Kind == topology.KindUnresolved && e.Reason == topology.ReasonUnknownClusterAddr
}

func (s *states) End(id resolve.EndID) topology.End { return s.cur.End(id) }

func (s *states) Workloads(since uint64) (map[topology.WorkloadRef]topology.Workload, uint64) {
	if since >= s.version {
		return nil, s.version
	}
	ws, _ := s.cur.Workloads(0)
	return ws, s.version
}

func (s *states) Cluster() topology.Cluster { return s.cur.Cluster() }
