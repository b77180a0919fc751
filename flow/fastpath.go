package flow

import (
	"bytes"
	"math"
	"net/netip"
	"time"
	"unsafe"
)

// A line in exactly the layout AppendJSON writes (the collector's, the
// agent's spool and flowpol's own files) is read by fastParse, a single
// pass over its bytes; any other line, and any line whose values are not
// plainly valid, goes to the general parser, which reads what JSON allows
// and names what is wrong. So the fast path only ever accepts a subset of
// what the general parser accepts, with the same result (FuzzFastPath).

// cursor walks a line.
type cursor struct {
	b []byte
	i int
}

// lit consumes s if the line continues with it.
func (c *cursor) lit(s string) bool {
	if len(c.b)-c.i < len(s) || string(c.b[c.i:c.i+len(s)]) != s {
		return false
	}
	c.i += len(s)
	return true
}

// plain returns the bytes up to the next quote and consumes the quote:
// a string of printable ASCII without escapes, as AppendJSON writes one.
func (c *cursor) plain() ([]byte, bool) {
	for j := c.i; j < len(c.b); j++ {
		switch ch := c.b[j]; {
		case ch == '"':
			s := c.b[c.i:j]
			c.i = j + 1
			return s, true
		case ch < 0x20 || ch >= 0x7f || ch == '\\':
			return nil, false
		}
	}
	return nil, false
}

// uint reads a number as JSON writes a non-negative integer (no sign,
// no leading zero, no fraction or exponent) of at most limit.
func (c *cursor) uint(limit uint64) (uint64, bool) {
	j, n := c.i, uint64(0)
	for ; j < len(c.b) && c.b[j] >= '0' && c.b[j] <= '9'; j++ {
		d := uint64(c.b[j] - '0')
		if n > (limit-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	if j == c.i || (c.b[c.i] == '0' && j-c.i > 1) {
		return 0, false
	}
	if j < len(c.b) && (c.b[j] == '.' || c.b[j] == 'e' || c.b[j] == 'E') {
		return 0, false
	}
	c.i = j
	return n, true
}

// fastParse reads b into r.rec if it is laid out as AppendJSON writes a
// record without a DNS answer, and reports whether it was.
func (r *Reader) fastParse(b []byte) bool {
	c := cursor{b: b}
	rec := &r.rec
	*rec = Record{Count: 1}
	if !c.lit(`{"time":"`) || !r.day.fastTime(&c, &rec.Time) || !c.lit(`,"node":"`) || !r.fastString(&c, &rec.Node, true) {
		return false
	}
	if !c.lit(`,"proto":"`) || !fastProto(&c, &rec.Proto) || !c.lit(`,"src_ip":"`) || !fastAddrPort(&c, &rec.Src, `,"src_port":`, 0) {
		return false
	}
	if !c.lit(`,"dst_ip":"`) || !fastAddrPort(&c, &rec.Dst, `,"dst_port":`, 1) || !c.lit(`,"observer":"`) || !fastObserver(&c, &rec.Observer) {
		return false
	}
	if !r.fastOptional(&c, rec) || !c.lit("}") || c.i != len(b) {
		return false
	}
	rec.Normalize()
	return true
}

// fastOptional reads the optional fields, each where AppendJSON puts it.
func (r *Reader) fastOptional(c *cursor, rec *Record) bool {
	var ok = true
	num := func(key string, limit uint64) uint64 {
		if !ok || !c.lit(key) {
			return 0
		}
		var n uint64
		n, ok = c.uint(limit)
		return n
	}
	str := func(key string, dst *string, intern bool) {
		if ok && c.lit(key) {
			ok = r.fastString(c, dst, intern)
		}
	}
	rec.PID = uint32(num(`,"pid":`, math.MaxUint32))
	str(`,"comm":"`, &rec.Comm, true)
	rec.CgroupID = num(`,"cgroup_id":`, math.MaxUint64)
	str(`,"pod_uid":"`, &rec.PodUID, false)
	str(`,"container_id":"`, &rec.ContainerID, false)
	rec.Netns = uint32(num(`,"netns":`, math.MaxUint32))
	if ok && c.lit(`,"count":`) {
		rec.Count, ok = c.uint(math.MaxUint64)
		ok = ok && rec.Count > 0
	}
	return ok
}

// fastString reads a plain string, interned when intern says, as the
// general parser does.
func (r *Reader) fastString(c *cursor, dst *string, intern bool) bool {
	b, ok := c.plain()
	if !ok {
		return false
	}
	*dst = r.stringOf(b, intern)
	return true
}

func fastProto(c *cursor, p *Proto) bool {
	b, ok := c.plain()
	if ok {
		*p = protoOf(b)
	}
	return ok && *p != 0
}

func fastObserver(c *cursor, o *Observer) bool {
	switch {
	case c.lit(`client"`):
		*o = Client
	case c.lit(`server"`):
		*o = Server
	default:
		return false
	}
	return true
}

// fastAddrPort reads an address, then sep, then a port of at least
// minPort.
func fastAddrPort(c *cursor, ap *netip.AddrPort, sep string, minPort uint64) bool {
	addr, ok := c.ipv4()
	if !ok {
		b, ok := c.plain()
		if !ok || bytes.IndexByte(b, '%') >= 0 {
			return false
		}
		var err error
		if addr, err = netip.ParseAddr(unsafe.String(unsafe.SliceData(b), len(b))); err != nil {
			return false
		}
	}
	if !c.lit(sep) {
		return false
	}
	port, ok := c.uint(math.MaxUint16)
	if !ok || port < minPort {
		return false
	}
	*ap = netip.AddrPortFrom(addr, uint16(port))
	return true
}

// ipv4 reads an IPv4 address in the dotted decimal netip.ParseAddr takes
// (four fields of one to three digits, no leading zero, each at most 255)
// and its closing quote. Anything else it leaves unread and reports false,
// for netip.ParseAddr to read or reject.
func (c *cursor) ipv4() (netip.Addr, bool) {
	var a [4]byte
	j := c.i
	for k := range a {
		if k > 0 {
			if j >= len(c.b) || c.b[j] != '.' {
				return netip.Addr{}, false
			}
			j++
		}
		start, n := j, 0
		for ; j < len(c.b) && j-start < 3 && c.b[j] >= '0' && c.b[j] <= '9'; j++ {
			n = n*10 + int(c.b[j]-'0')
		}
		if j == start || n > 255 || (c.b[start] == '0' && j-start > 1) {
			return netip.Addr{}, false
		}
		a[k] = byte(n)
	}
	if j >= len(c.b) || c.b[j] != '"' {
		return netip.Addr{}, false
	}
	c.i = j + 1
	return netip.AddrFrom4(a), true
}

// dayCache is the last day fastTime read, as the unix time of its
// midnight (UTC): records come in time order, so most are of the day
// before them, and need no calendar arithmetic.
type dayCache struct {
	year, month, day int
	midnight         int64
	ok               bool
}

// fastTime reads YYYY-MM-DDTHH:MM:SS[.F]Z and the closing quote: the UTC
// form AppendJSON writes, with at most nine digits of fraction.
func (dc *dayCache) fastTime(c *cursor, t *time.Time) bool {
	b := c.b[c.i:]
	if len(b) < 21 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return false
	}
	var f [6]int
	for k, at := range [6]int{0, 5, 8, 11, 14, 17} {
		width := 2
		if k == 0 {
			width = 4
		}
		n, ok := digits(b[at : at+width])
		if !ok {
			return false
		}
		f[k] = n
	}
	j, nsec := 19, 0
	if b[j] == '.' {
		j++
		start := j
		for ; j < len(b) && j-start < 10 && b[j] >= '0' && b[j] <= '9'; j++ {
			nsec = nsec*10 + int(b[j]-'0')
		}
		if j == start || j-start > 9 {
			return false
		}
		for k := j - start; k < 9; k++ {
			nsec *= 10
		}
	}
	if len(b) < j+2 || b[j] != 'Z' || b[j+1] != '"' {
		return false
	}
	year, month, day, hour, minute, sec := f[0], time.Month(f[1]), f[2], f[3], f[4], f[5]
	if month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return false
	}
	if dc.ok && year == dc.year && int(month) == dc.month && day == dc.day {
		// the same as time.Date's, which is UTC's: a valid day in range
		*t = time.Unix(dc.midnight+int64(hour*3600+minute*60+sec), int64(nsec)).UTC()
		c.i += j + 2
		return true
	}
	*t = time.Date(year, month, day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day || !InRange(*t) { // a day past the month's end
		return false
	}
	// Records may carry the whole of a day or none of it: the range's
	// ends are midnights.
	*dc = dayCache{year: year, month: int(month), day: day, midnight: t.Unix() - int64(hour*3600+minute*60+sec), ok: true}
	c.i += j + 2
	return true
}

// digits reads a run of decimal digits.
func digits(b []byte) (int, bool) {
	n := 0
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		n = n*10 + int(ch-'0')
	}
	return n, true
}
