package learn

import (
	"net/netip"
	"slices"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/resolve"
)

// maxHeard bounds the answers the learner holds for matching; past it,
// those expired are forgotten, and if none has, all of them.
const maxHeard = 1 << 18

// client is who received an answer: its pod, or, when the record's source
// is no pod, its address.
type client struct {
	pod  uint64
	addr netip.Addr
}

func clientOf(rec *flow.Record, p *resolve.Placement) client {
	if p.Src.Pod != 0 {
		return client{pod: p.Src.Pod}
	}
	return client{addr: rec.Src.Addr()}
}

// heard is a name an answer gave for an address: received at unix ms at,
// usable until unix ms until (its TTL, plus the grace).
type heard struct {
	name      string
	at, until int64
}

// answerKey is a name and one of its addresses.
type answerKey struct {
	name string
	addr netip.Addr
}

// dnsState is what the learner knows of the DNS answers clients received:
// per client and address, the names that resolved to it, for naming the
// client's later connections; and per name and address, when answers said
// so, for the store.
type dnsState struct {
	grace   int64 // ms
	heard   map[client]map[netip.Addr][]heard
	entries int
	answers map[answerKey]*answerSpan
	fresh   []answerKey // answers changed since the last take
}

// answerSpan is when an answer was received, and whether that changed
// since the last take.
type answerSpan struct {
	span
	fresh bool
}

// span is a first and last moment, unix milliseconds.
type span struct{ first, last int64 }

func (s *span) widen(ms int64) {
	s.first, s.last = min(s.first, ms), max(s.last, ms)
}

func newDNSState(grace int64) *dnsState {
	return &dnsState{grace: grace, heard: map[client]map[netip.Addr][]heard{}, answers: map[answerKey]*answerSpan{}}
}

// hear notes an answer c received.
func (s *dnsState) hear(c client, d *flow.DNS, ms int64) {
	if s.entries >= maxHeard {
		s.prune(ms)
	}
	addrs := s.heard[c]
	if addrs == nil {
		addrs = map[netip.Addr][]heard{}
		s.heard[c] = addrs
	}
	h := heard{name: d.Name, at: ms, until: ms + int64(d.TTL)*1000 + s.grace}
	for _, a := range d.Answers {
		hs := addrs[a]
		if i := slices.IndexFunc(hs, func(x heard) bool { return x.name == d.Name }); i >= 0 {
			hs[i] = h // the newest answer for the name is the one that holds
		} else {
			addrs[a] = append(hs, h)
			s.entries++
		}
		s.noteAnswer(answerKey{d.Name, a}, ms)
	}
}

func (s *dnsState) noteAnswer(k answerKey, ms int64) {
	sp := s.answers[k]
	switch {
	case sp == nil:
		sp = &answerSpan{span: span{ms, ms}}
		s.answers[k] = sp
	case ms >= sp.first && ms <= sp.last:
		return
	default:
		sp.widen(ms)
	}
	if !sp.fresh {
		sp.fresh = true
		s.fresh = append(s.fresh, k)
	}
}

// names returns the names whose answers c received at or before ms and
// still held at ms for addr.
func (s *dnsState) names(c client, addr netip.Addr, ms int64) []string {
	var out []string
	for _, h := range s.heard[c][addr] {
		if h.at <= ms && ms <= h.until {
			out = append(out, h.name)
		}
	}
	return out
}

// prune forgets the answers that no longer hold at ms, and all of them if
// that is not enough.
func (s *dnsState) prune(ms int64) {
	for c, addrs := range s.heard {
		for a, hs := range addrs {
			hs = slices.DeleteFunc(hs, func(h heard) bool { return h.until < ms })
			s.entries -= len(addrs[a]) - len(hs)
			if len(hs) == 0 {
				delete(addrs, a)
			} else {
				addrs[a] = hs
			}
		}
		if len(addrs) == 0 {
			delete(s.heard, c)
		}
	}
	if s.entries >= maxHeard {
		clear(s.heard)
		s.entries = 0
	}
}

// take hands out the answers changed since the last take.
func (s *dnsState) take() []baseline.Answer {
	if len(s.fresh) == 0 {
		return nil
	}
	out := make([]baseline.Answer, len(s.fresh))
	for i, k := range s.fresh {
		sp := s.answers[k]
		sp.fresh = false
		out[i] = baseline.Answer{Name: k.name, Addr: k.addr, First: sp.first, Last: sp.last}
	}
	s.fresh = s.fresh[:0]
	if len(s.answers) >= maxHeard { // the store has them all: start again
		clear(s.answers)
	}
	return out
}
