package flow

import (
	"fmt"
	"math"
	"math/bits"
	"net/netip"
	"slices"
	"time"
)

// Proto is a transport protocol NetworkPolicy can name.
type Proto uint8

// Protocols, in the order they sort.
const (
	TCP Proto = iota + 1
	UDP
	SCTP
)

// String returns the protocol's name as NetworkPolicy spells it.
func (p Proto) String() string {
	switch p {
	case TCP:
		return "TCP"
	case UDP:
		return "UDP"
	case SCTP:
		return "SCTP"
	}
	return fmt.Sprintf("Proto(%d)", uint8(p))
}

// ParseProto parses TCP, UDP or SCTP (upper or lower case).
func ParseProto(s string) (Proto, error) {
	switch s {
	case "TCP", "tcp":
		return TCP, nil
	case "UDP", "udp":
		return UDP, nil
	case "SCTP", "sctp":
		return SCTP, nil
	}
	return 0, fmt.Errorf("%w: %q (want TCP, UDP or SCTP)", ErrBadProto, s)
}

// Observer says which end's node saw a flow.
type Observer uint8

// Observers.
const (
	Client Observer = iota + 1
	Server
)

// String returns "client" or "server".
func (o Observer) String() string {
	switch o {
	case Client:
		return "client"
	case Server:
		return "server"
	}
	return fmt.Sprintf("Observer(%d)", uint8(o))
}

// ParseObserver parses "client" or "server".
func ParseObserver(s string) (Observer, error) {
	switch s {
	case "client":
		return Client, nil
	case "server":
		return Server, nil
	}
	return 0, fmt.Errorf("%w: %q (want client or server)", ErrBadObserver, s)
}

// The times a record may carry, in Unix seconds: from 1678-01-01 up to,
// not including, 2262-01-01. Every such time has a UnixNano, and so do the
// start and end of every time bucket around it, of any width up to a year.
const (
	MinUnix = -9214560000
	MaxUnix = 9214646400
)

// InRange reports whether t is a time a record may carry.
func InRange(t time.Time) bool {
	s := t.Unix()
	return s >= MinUnix && s < MaxUnix
}

// Record is one observed flow.
type Record struct {
	Time     time.Time
	Node     string
	Proto    Proto
	Src      netip.AddrPort
	Dst      netip.AddrPort
	Observer Observer

	// Optional attribution; zero when the observer did not record it.
	PID         uint32
	Comm        string
	CgroupID    uint64
	PodUID      string
	ContainerID string
	Netns       uint32 // the network namespace's inode number

	// Count is how many times the flow repeated; at least 1, except in a
	// record that only carries a DNS answer to a flow already recorded,
	// where it may be 0.
	Count uint64

	// DNS is the answer the client received on this flow to port 53; nil
	// when there is none.
	DNS *DNS
}

// DNS is one DNS answer a client received: the name it asked for and the
// addresses that name resolved to, directly or through CNAMEs.
type DNS struct {
	// Name is the name asked for, in lower case, without the final dot.
	Name string
	// Answers are the addresses (A and AAAA records), at least one and at
	// most MaxAnswers.
	Answers []netip.Addr
	// TTL is how long the answer may be used, in seconds: the smallest
	// TTL of the records that led to the addresses.
	TTL uint32
}

// Bounds on a DNS answer in a record.
const (
	MaxNameBytes = 253
	MaxAnswers   = 64
)

// Equal reports whether two answers are the same.
func (d *DNS) Equal(o *DNS) bool {
	if d == nil || o == nil {
		return d == o
	}
	return d.Name == o.Name && d.TTL == o.TTL && slices.Equal(d.Answers, o.Answers)
}

// Normalize unmaps IPv4-mapped IPv6 addresses, so that ::ffff:10.0.0.1 and
// 10.0.0.1 are the same peer.
func (r *Record) Normalize() {
	r.Src = netip.AddrPortFrom(r.Src.Addr().Unmap(), r.Src.Port())
	r.Dst = netip.AddrPortFrom(r.Dst.Addr().Unmap(), r.Dst.Port())
	if r.DNS != nil {
		for i, a := range r.DNS.Answers {
			r.DNS.Answers[i] = a.Unmap()
		}
	}
}

// Equal reports whether two records are the same, their DNS answers
// compared by value.
func (r *Record) Equal(o *Record) bool {
	a, b := *r, *o
	a.DNS, b.DNS = nil, nil
	return a == b && r.DNS.Equal(o.DNS)
}

// AddCounts adds two connection counts, stopping at the largest a count
// can be rather than wrapping round to a small one.
func AddCounts(a, b uint64) uint64 {
	sum, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return math.MaxUint64
	}
	return sum
}
