package collector

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/flowpol/flowpol/flow"
)

// parseAnswer reads the head of a DNS response as a pod received it: the
// name asked and the addresses (A and AAAA records) it resolved to,
// directly or through CNAMEs, with the smallest TTL on the way. Over TCP
// the message starts with its two-byte length. A payload cut short keeps
// the addresses read before the cut. ok is false for anything else: a
// query, an error answer, an answer with no address, or no DNS at all.
func parseAnswer(payload []byte, tcp bool) (d flow.DNS, ok bool) {
	if tcp {
		if len(payload) < 2 {
			return d, false
		}
		payload = payload[2:]
	}
	var p dnsmessage.Parser
	h, err := p.Start(payload)
	if err != nil || !h.Response || h.RCode != dnsmessage.RCodeSuccess {
		return d, false
	}
	q, err := p.Question()
	if err != nil || (q.Type != dnsmessage.TypeA && q.Type != dnsmessage.TypeAAAA && q.Type != dnsmessage.TypeALL) {
		return d, false
	}
	d.Name = canonicalName(q.Name)
	if d.Name == "" || len(d.Name) > flow.MaxNameBytes || p.SkipAllQuestions() != nil {
		return d, false
	}
	d.Answers, d.TTL = readAddrs(&p, d.Name)
	return d, len(d.Answers) > 0
}

// readAddrs reads the answer section: addresses of the names in the chain
// from name through CNAMEs, sorted, and the smallest TTL of the records
// that led to them. It stops at the first record it cannot read.
func readAddrs(p *dnsmessage.Parser, name string) ([]netip.Addr, uint32) {
	chain := []string{name}
	var addrs []netip.Addr
	var ttl uint32
	note := func(t uint32) {
		if len(addrs) == 0 || t < ttl {
			ttl = t
		}
	}
	var cnameTTL []uint32
	for len(addrs) < flow.MaxAnswers {
		h, err := p.AnswerHeader()
		if err != nil {
			break
		}
		if h.Class != dnsmessage.ClassINET || !slices.Contains(chain, canonicalName(h.Name)) {
			if p.SkipAnswer() != nil {
				break
			}
			continue
		}
		switch h.Type {
		case dnsmessage.TypeA:
			r, err := p.AResource()
			if err != nil {
				return finish(addrs, ttl, cnameTTL)
			}
			note(h.TTL)
			addrs = append(addrs, netip.AddrFrom4(r.A))
		case dnsmessage.TypeAAAA:
			r, err := p.AAAAResource()
			if err != nil {
				return finish(addrs, ttl, cnameTTL)
			}
			note(h.TTL)
			addrs = append(addrs, netip.AddrFrom16(r.AAAA).Unmap())
		case dnsmessage.TypeCNAME:
			r, err := p.CNAMEResource()
			if err != nil {
				return finish(addrs, ttl, cnameTTL)
			}
			chain = append(chain, canonicalName(r.CNAME))
			cnameTTL = append(cnameTTL, h.TTL)
		default:
			if p.SkipAnswer() != nil {
				return finish(addrs, ttl, cnameTTL)
			}
		}
	}
	return finish(addrs, ttl, cnameTTL)
}

// finish sorts the addresses, drops repeats, and lowers the TTL to that of
// any CNAME on the way.
func finish(addrs []netip.Addr, ttl uint32, cnameTTL []uint32) ([]netip.Addr, uint32) {
	if len(addrs) == 0 {
		return nil, 0
	}
	for _, t := range cnameTTL {
		ttl = min(ttl, t)
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	return slices.Compact(addrs), ttl
}

// canonicalName is a name in lower case without its final dot.
func canonicalName(n dnsmessage.Name) string {
	return strings.ToLower(strings.TrimSuffix(n.String(), "."))
}

// answerCache remembers, per pod cgroup and name, the last answer emitted
// and until when it holds, so that a pod asking again and again for the
// same name yields a record about twice a TTL, not one an answer.
type answerCache struct {
	m   map[answerKey]answerSeen
	max int
}

type answerKey struct {
	cgroup uint64
	name   string
}

type answerSeen struct {
	answers []netip.Addr
	emitted time.Time
	ttl     time.Duration
}

func newAnswerCache(maxEntries int) *answerCache {
	return &answerCache{m: map[answerKey]answerSeen{}, max: maxEntries}
}

// fresh says whether an answer received at now is news: a name not asked
// before by the cgroup, other addresses, or the same ones past half of the
// TTL of the answer last emitted. A fresh answer is remembered.
func (c *answerCache) fresh(cgroup uint64, d *flow.DNS, now time.Time) bool {
	k := answerKey{cgroup, d.Name}
	s, known := c.m[k]
	if known && slices.Equal(s.answers, d.Answers) && now.Sub(s.emitted) < s.ttl/2 {
		return false
	}
	if !known && len(c.m) >= c.max {
		c.prune(now)
		if len(c.m) >= c.max {
			clear(c.m) // every answer still holds: start again rather than grow
		}
	}
	c.m[k] = answerSeen{answers: d.Answers, emitted: now, ttl: time.Duration(d.TTL) * time.Second}
	return true
}

// prune forgets the answers whose TTL has passed.
func (c *answerCache) prune(now time.Time) {
	for k, s := range c.m {
		if now.Sub(s.emitted) >= s.ttl {
			delete(c.m, k)
		}
	}
}
