package flow

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"time"

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

func (r *Reader) parse(b []byte) error {
	v, err := r.parser.ParseBytes(b)
	if err != nil {
		return r.fail("", fmt.Errorf("invalid JSON: %w", err))
	}
	o, err := v.Object()
	if err != nil {
		return r.fail("", errors.New("not a JSON object"))
	}
	rec := &r.rec
	*rec = Record{}
	if err := r.parseRequired(o, rec); err != nil {
		return err
	}
	if err := r.parseOptional(o, rec); err != nil {
		return err
	}
	rec.Normalize()
	return nil
}

func (r *Reader) parseRequired(o *fastjson.Object, rec *Record) error {
	ts, err := r.str(o, "time", true)
	if err != nil {
		return err
	}
	if rec.Time, err = time.Parse(time.RFC3339Nano, ts); err != nil {
		return r.fail("time", errors.New("not an RFC 3339 time"))
	}
	p, err := r.str(o, "proto", true)
	if err != nil {
		return err
	}
	if rec.Proto, err = ParseProto(p); err != nil {
		return r.fail("proto", err)
	}
	obs, err := r.str(o, "observer", true)
	if err != nil {
		return err
	}
	if rec.Observer, err = ParseObserver(obs); err != nil {
		return r.fail("observer", err)
	}
	if rec.Src, err = r.addrPort(o, "src_ip", "src_port", false); err != nil {
		return err
	}
	rec.Dst, err = r.addrPort(o, "dst_ip", "dst_port", true)
	return err
}

func (r *Reader) parseOptional(o *fastjson.Object, rec *Record) error {
	var err error
	if rec.Node, err = r.str(o, "node", false); err != nil {
		return err
	}
	if rec.Comm, err = r.str(o, "comm", false); err != nil {
		return err
	}
	if rec.PodUID, err = r.str(o, "pod_uid", false); err != nil {
		return err
	}
	if rec.ContainerID, err = r.str(o, "container_id", false); err != nil {
		return err
	}
	netns, err := r.uint(o, "netns", math.MaxUint32, false)
	if err != nil {
		return err
	}
	rec.Netns = uint32(netns)
	pid, err := r.uint(o, "pid", math.MaxUint32, false)
	if err != nil {
		return err
	}
	rec.PID = uint32(pid)
	if rec.CgroupID, err = r.uint(o, "cgroup_id", math.MaxUint64, false); err != nil {
		return err
	}
	if o.Get("count") == nil {
		rec.Count = 1
		return nil
	}
	if rec.Count, err = r.uint(o, "count", math.MaxUint64, true); err != nil {
		return err
	}
	if rec.Count == 0 {
		return r.fail("count", errors.New("must be at least 1"))
	}
	return nil
}

// str returns a string field, interned so repeated values do not allocate.
func (r *Reader) str(o *fastjson.Object, field string, required bool) (string, error) {
	v := o.Get(field)
	if v == nil || v.Type() == fastjson.TypeNull {
		if required {
			return "", r.fail(field, errors.New("missing"))
		}
		return "", nil
	}
	b, err := v.StringBytes()
	if err != nil {
		return "", r.fail(field, errors.New("not a string"))
	}
	if s, ok := r.strings[string(b)]; ok {
		return s, nil
	}
	s := string(b)
	if len(r.strings) < 1<<16 {
		r.strings[s] = s
	}
	return s, nil
}

func (r *Reader) uint(o *fastjson.Object, field string, limit uint64, required bool) (uint64, error) {
	v := o.Get(field)
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

func (r *Reader) addrPort(o *fastjson.Object, ipField, portField string, needPort bool) (netip.AddrPort, error) {
	v := o.Get(ipField)
	if v == nil {
		return netip.AddrPort{}, r.fail(ipField, errors.New("missing"))
	}
	b, err := v.StringBytes()
	if err != nil {
		return netip.AddrPort{}, r.fail(ipField, errors.New("not a string"))
	}
	addr, err := netip.ParseAddr(string(b))
	if err != nil || addr.Zone() != "" {
		return netip.AddrPort{}, r.fail(ipField, fmt.Errorf("not an IP address: %q", b))
	}
	port, err := r.uint(o, portField, math.MaxUint16, needPort)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if needPort && port == 0 {
		return netip.AddrPort{}, r.fail(portField, errors.New("must be 1 to 65535"))
	}
	return netip.AddrPortFrom(addr, uint16(port)), nil
}
