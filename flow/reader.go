package flow

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"time"
	"unsafe"

	"github.com/valyala/fastjson"
)

// MaxLineBytes is the longest line a Reader accepts.
const MaxLineBytes = 1 << 20

// Reader reads records from JSON Lines. Blank lines are skipped; unknown
// fields are ignored.
type Reader struct {
	name    string
	sc      *bufio.Scanner
	parser  fastjson.Parser
	line    int
	rec     Record
	strings map[string]string
	recent  [64]string // of the strings interned, by recentSlot
	day     dayCache   // of the fast path's last time
	// general turns the fast path off, for the tests that compare it
	// with the general parser.
	general bool
}

// NewReader reads records from r; name (a file name, or "-" for standard
// input) is used in errors.
func NewReader(r io.Reader, name string) *Reader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	return &Reader{name: name, sc: sc, strings: make(map[string]string)}
}

// Line returns the line number of the record Next returned last.
func (r *Reader) Line() int { return r.line }

// Next returns the next record, or io.EOF after the last one. A malformed
// line gives a *LineError. The record is valid until the next call.
func (r *Reader) Next() (*Record, error) {
	for r.sc.Scan() {
		r.line++
		b := r.sc.Bytes()
		if isBlank(b) {
			continue
		}
		if !r.general && r.fastParse(b) {
			return &r.rec, nil
		}
		if err := r.parse(b); err != nil {
			return nil, err
		}
		return &r.rec, nil
	}
	if err := r.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &LineError{File: r.name, Line: r.line + 1, Err: fmt.Errorf("line longer than %d bytes", MaxLineBytes)}
		}
		return nil, fmt.Errorf("read %s: %w", r.name, err)
	}
	return nil, io.EOF
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

func (r *Reader) fail(field string, err error) error {
	return &LineError{File: r.name, Line: r.line, Field: field, Err: err}
}

// fields are a record's values, found in one pass over its object.
type fields struct {
	time, proto, observer, srcIP, srcPort, dstIP, dstPort        *fastjson.Value
	node, comm, podUID, containerID, pid, cgroupID, netns, count *fastjson.Value
	dns                                                          *fastjson.Value
}

func (f *fields) set(key []byte, v *fastjson.Value) {
	switch string(key) {
	case "time":
		f.time = v
	case "proto":
		f.proto = v
	case "observer":
		f.observer = v
	case "src_ip":
		f.srcIP = v
	case "src_port":
		f.srcPort = v
	case "dst_ip":
		f.dstIP = v
	case "dst_port":
		f.dstPort = v
	case "node":
		f.node = v
	case "comm":
		f.comm = v
	case "pod_uid":
		f.podUID = v
	case "container_id":
		f.containerID = v
	case "pid":
		f.pid = v
	case "cgroup_id":
		f.cgroupID = v
	case "netns":
		f.netns = v
	case "count":
		f.count = v
	case "dns":
		f.dns = v
	}
}

func (r *Reader) parse(b []byte) error {
	v, err := r.parser.ParseBytes(b)
	if err != nil {
		return r.fail("", fmt.Errorf("invalid JSON: %w", err))
	}
	o, err := v.Object()
	if err != nil {
		return r.fail("", errors.New("not a JSON object"))
	}
	var f fields
	o.Visit(f.set)
	rec := &r.rec
	*rec = Record{}
	if err := r.parseRequired(&f, rec); err != nil {
		return err
	}
	if err := r.parseOptional(&f, rec); err != nil {
		return err
	}
	rec.Normalize()
	return nil
}

func (r *Reader) parseRequired(f *fields, rec *Record) error {
	ts, err := r.bytes("time", f.time)
	if err != nil {
		return err
	}
	// The string does not outlive the call: time.Parse keeps it only in
	// an error, which is dropped.
	if rec.Time, err = time.Parse(time.RFC3339Nano, unsafe.String(unsafe.SliceData(ts), len(ts))); err != nil {
		return r.fail("time", errors.New("not an RFC 3339 time"))
	}
	if !InRange(rec.Time) {
		return r.fail("time", fmt.Errorf("%w: %s", ErrTimeRange, ts))
	}
	p, err := r.bytes("proto", f.proto)
	if err != nil {
		return err
	}
	if rec.Proto = protoOf(p); rec.Proto == 0 {
		_, err := ParseProto(string(p))
		return r.fail("proto", err)
	}
	obs, err := r.bytes("observer", f.observer)
	if err != nil {
		return err
	}
	switch string(obs) {
	case "client":
		rec.Observer = Client
	case "server":
		rec.Observer = Server
	default:
		_, err := ParseObserver(string(obs))
		return r.fail("observer", err)
	}
	if rec.Src, err = r.addrPort("src_ip", f.srcIP, "src_port", f.srcPort, false); err != nil {
		return err
	}
	rec.Dst, err = r.addrPort("dst_ip", f.dstIP, "dst_port", f.dstPort, true)
	return err
}

func protoOf(b []byte) Proto {
	switch string(b) {
	case "TCP", "tcp":
		return TCP
	case "UDP", "udp":
		return UDP
	case "SCTP", "sctp":
		return SCTP
	}
	return 0
}

func (r *Reader) parseOptional(f *fields, rec *Record) error {
	for _, s := range []struct {
		name   string
		v      *fastjson.Value
		dst    *string
		intern bool
	}{{"node", f.node, &rec.Node, true}, {"comm", f.comm, &rec.Comm, true}, {"pod_uid", f.podUID, &rec.PodUID, false}, {"container_id", f.containerID, &rec.ContainerID, false}} {
		var err error
		if *s.dst, err = r.str(s.name, s.v, s.intern); err != nil {
			return err
		}
	}
	pid, err := r.uint("pid", f.pid, math.MaxUint32, false)
	if err != nil {
		return err
	}
	rec.PID = uint32(pid)
	if rec.CgroupID, err = r.uint("cgroup_id", f.cgroupID, math.MaxUint64, false); err != nil {
		return err
	}
	netns, err := r.uint("netns", f.netns, math.MaxUint32, false)
	if err != nil {
		return err
	}
	rec.Netns = uint32(netns)
	if rec.DNS, err = r.dns(f.dns); err != nil {
		return err
	}
	if f.count == nil {
		rec.Count = 1
		return nil
	}
	if rec.Count, err = r.uint("count", f.count, math.MaxUint64, true); err != nil {
		return err
	}
	if rec.Count == 0 && rec.DNS == nil {
		return r.fail("count", errors.New("must be at least 1 (0 only with a dns answer)"))
	}
	return nil
}

// dns reads the optional DNS answer: a name, one to MaxAnswers addresses
// and a TTL. Its answers are a new slice: the record keeps it.
func (r *Reader) dns(v *fastjson.Value) (*DNS, error) {
	if v == nil || v.Type() == fastjson.TypeNull {
		return nil, nil
	}
	o, err := v.Object()
	if err != nil {
		return nil, r.fail("dns", errors.New("not an object"))
	}
	d := &DNS{}
	name, err := r.bytes("dns.name", o.Get("name"))
	if err != nil {
		return nil, err
	}
	if len(name) == 0 || len(name) > MaxNameBytes {
		return nil, r.fail("dns.name", fmt.Errorf("must be 1 to %d bytes", MaxNameBytes))
	}
	d.Name = string(name)
	ttl, err := r.uint("dns.ttl", o.Get("ttl"), math.MaxUint32, false)
	if err != nil {
		return nil, err
	}
	d.TTL = uint32(ttl)
	if d.Answers, err = r.answers(o.Get("answers")); err != nil {
		return nil, err
	}
	return d, nil
}

func (r *Reader) answers(v *fastjson.Value) ([]netip.Addr, error) {
	if v == nil || v.Type() == fastjson.TypeNull {
		return nil, r.fail("dns.answers", errors.New("missing"))
	}
	arr, err := v.Array()
	if err != nil {
		return nil, r.fail("dns.answers", errors.New("not an array"))
	}
	if len(arr) == 0 || len(arr) > MaxAnswers {
		return nil, r.fail("dns.answers", fmt.Errorf("must hold 1 to %d addresses", MaxAnswers))
	}
	out := make([]netip.Addr, len(arr))
	for i, a := range arr {
		b, err := a.StringBytes()
		if err != nil {
			return nil, r.fail("dns.answers", errors.New("not a string"))
		}
		if bytes.IndexByte(b, '%') >= 0 {
			return nil, r.fail("dns.answers", fmt.Errorf("not an IP address: %q (zones are not allowed)", b))
		}
		if out[i], err = netip.ParseAddr(string(b)); err != nil {
			return nil, r.fail("dns.answers", fmt.Errorf("not an IP address: %q", b))
		}
	}
	return out, nil
}

// bytes returns a required string field's bytes, valid until the next
// record.
func (r *Reader) bytes(field string, v *fastjson.Value) ([]byte, error) {
	if v == nil || v.Type() == fastjson.TypeNull {
		return nil, r.fail(field, errors.New("missing"))
	}
	b, err := v.StringBytes()
	if err != nil {
		return nil, r.fail(field, errors.New("not a string"))
	}
	return b, nil
}

// str returns an optional string field, interned when intern says (see
// stringOf).
func (r *Reader) str(field string, v *fastjson.Value, intern bool) (string, error) {
	if v == nil || v.Type() == fastjson.TypeNull {
		return "", nil
	}
	b, err := v.StringBytes()
	if err != nil {
		return "", r.fail(field, errors.New("not a string"))
	}
	return r.stringOf(b, intern), nil
}

// stringOf returns b as a string: interned when intern says (a field of
// few values, a node's or a process's name), else new (a pod's uid or a
// container's id, one of each per pod: interning thousands of them costs
// more in lookups that miss the processor's caches than it saves).
func (r *Reader) stringOf(b []byte, intern bool) string {
	switch {
	case len(b) == 0:
		return ""
	case intern:
		return r.intern(b)
	}
	return string(b)
}

// intern returns b as a string, the same string each time for up to
// 65,536 different values.
func (r *Reader) intern(b []byte) string {
	slot := &r.recent[recentSlot(b)]
	if *slot == string(b) && len(b) > 0 {
		return *slot
	}
	if s, ok := r.strings[string(b)]; ok {
		*slot = s
		return s
	}
	s := string(b)
	if len(r.strings) < 1<<16 {
		r.strings[s] = s
		*slot = s
	}
	return s
}

// recentSlot places a string in Reader.recent by its length and last
// bytes, where names of nodes and processes differ.
func recentSlot(b []byte) int {
	h := len(b)
	if n := len(b); n > 0 {
		h = h*31 + int(b[n-1])
		if n > 1 {
			h = h*31 + int(b[n-2])
		}
	}
	return h & 63
}

func (r *Reader) uint(field string, v *fastjson.Value, limit uint64, required bool) (uint64, error) {
	if v == nil || v.Type() == fastjson.TypeNull {
		if required {
			return 0, r.fail(field, errors.New("missing"))
		}
		return 0, nil
	}
	n, err := v.Uint64()
	if err != nil {
		return 0, r.fail(field, errors.New("not a non-negative integer"))
	}
	if n > limit {
		return 0, r.fail(field, fmt.Errorf("%d is out of range (at most %d)", n, limit))
	}
	return n, nil
}

func (r *Reader) addrPort(ipField string, ipv *fastjson.Value, portField string, portv *fastjson.Value, needPort bool) (netip.AddrPort, error) {
	b, err := r.bytes(ipField, ipv)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if bytes.IndexByte(b, '%') >= 0 {
		return netip.AddrPort{}, r.fail(ipField, fmt.Errorf("not an IP address: %q (zones are not allowed)", b))
	}
	// Without a zone, ParseAddr keeps nothing of the string it is given.
	addr, err := netip.ParseAddr(unsafe.String(unsafe.SliceData(b), len(b)))
	if err != nil {
		return netip.AddrPort{}, r.fail(ipField, fmt.Errorf("not an IP address: %q", b))
	}
	port, err := r.uint(portField, portv, math.MaxUint16, needPort)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if needPort && port == 0 {
		return netip.AddrPort{}, r.fail(portField, errors.New("must be 1 to 65535"))
	}
	return netip.AddrPortFrom(addr, uint16(port)), nil
}
