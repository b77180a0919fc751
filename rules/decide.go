package rules

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
)

// Decision is the verdict on a connection's first packet, as the datapath
// reaches it.
type Decision struct {
	Allowed bool
	// Ingress is set when the destination's rules denied it.
	Ingress bool
	// Rule is the rule that allowed the last direction checked (0 when
	// neither end is isolated); Isolation (index+1 into Set.Isolation) is
	// the policy that isolates the denying end.
	Rule, Isolation uint32
}

// Decide decides a connection from src to dst on a destination port, in
// both directions: the source's egress, then the destination's ingress.
func (t *Tables) Decide(src, dst netip.Addr, port uint16, proto corev1.Protocol) Decision {
	src, dst = netip.AddrFrom16(src.As16()), netip.AddrFrom16(dst.As16())
	d := t.decide(Egress, src, dst, port, protoNumber(proto))
	if !d.Allowed {
		return d
	}
	return t.decide(Ingress, src, dst, port, protoNumber(proto))
}

// decide is one direction, as the datapath's decide.
func (t *Tables) decide(dir Direction, src, dst netip.Addr, port uint16, proto uint8) Decision {
	self, other := src, dst
	if dir == Ingress {
		self, other = dst, src
	}
	if src == dst {
		return Decision{Allowed: true}
	}
	selfID, ok := t.Endpoints[self]
	if !ok {
		return Decision{Allowed: true}
	}
	iso, ok := t.Isolation[IsoKey{Class: selfID, Dir: dir}]
	if !ok {
		return Decision{Allowed: true}
	}
	k := PolicyKey{Self: selfID, Other: t.identity(other), Dir: dir, Proto: proto}
	if rule, ok := t.lookupPolicy(k, port); ok {
		return Decision{Allowed: true, Rule: rule}
	}
	return Decision{Ingress: dir == Ingress, Isolation: iso}
}

// identity is an address's class: its pod's, or its longest CIDR's.
func (t *Tables) identity(a netip.Addr) uint32 {
	if id, ok := t.Endpoints[a]; ok {
		return id
	}
	for bits := 128; bits >= 0; bits-- {
		p, _ := a.Prefix(bits)
		if id, ok := t.CIDRs[p]; ok {
			return id
		}
	}
	return World
}

// lookupPolicy is the longest-prefix match over protocol and port: a
// port prefix of the protocol, then every port of it, then everything.
func (t *Tables) lookupPolicy(k PolicyKey, port uint16) (uint32, bool) {
	proto := k.Proto
	for bits := 24; bits >= 8; bits-- {
		k.Bits, k.Proto, k.Port = uint8(bits), proto, portBits(port, bits-8)
		if rule, ok := t.Policy[k]; ok {
			return rule, true
		}
	}
	k.Bits, k.Proto, k.Port = 0, 0, 0
	rule, ok := t.Policy[k]
	return rule, ok
}

// portBits keeps a port's n leading bits.
func portBits(port uint16, n int) uint16 {
	if n <= 0 {
		return 0
	}
	return port &^ (1<<(16-n) - 1)
}
