package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/flowpol/flowpol/flow"
)

// ContentType is the media type of an encoded batch.
const ContentType = "application/x-flowpol-batch"

// magic starts every encoded batch; its last byte is the format's version.
const magic = "FPB1"

// maxString bounds a string in a batch: an agent id, a node, a process
// name, a pod uid or a container id.
const maxString = 1024

// Batch is one agent's numbered bundle of flow records.
type Batch struct {
	// Agent names the sender: stable for as long as its spool lives.
	Agent string
	// Seq numbers the agent's batches from 1, in the order they are sent.
	Seq uint64
	// Node is the agent's node.
	Node string
	// Dropped and RingLost are the agent's running totals of records it
	// dropped (a full spool, a rejected batch) and of new flows its
	// capture's ring buffer had no room for.
	Dropped, RingLost uint64
	Records           []flow.Record
}

// ID is the batch's identity: agent and sequence number.
func (b *Batch) ID() string { return fmt.Sprintf("%s#%d", b.Agent, b.Seq) }

// AppendBatch appends b's encoding: a header, a table of the distinct
// strings, and each record as a flags byte, addresses and uvarints, times
// relative to the first record's. It fails on a record the flow format
// would refuse, a time outside the years 1678 to 2261 among them, and then
// appends nothing.
func AppendBatch(dst []byte, b *Batch) ([]byte, error) {
	if b.Agent == "" || len(b.Agent) > maxString || len(b.Node) > maxString {
		return dst, fmt.Errorf("encode batch: agent %q or node %q empty or longer than %d bytes", b.Agent, b.Node, maxString)
	}
	var base int64
	if len(b.Records) > 0 {
		base = b.Records[0].Time.UnixNano()
	}
	table := stringTable{index: map[string]uint64{"": 0}}
	for i := range b.Records {
		err := CheckRecord(&b.Records[i])
		if err == nil {
			err = table.addRecord(&b.Records[i])
		}
		if err != nil {
			return dst, fmt.Errorf("encode batch %s: record %d: %w", b.ID(), i+1, err)
		}
	}
	dst = append(dst, magic...)
	dst = appendString(dst, b.Agent)
	dst = binary.AppendUvarint(dst, b.Seq)
	dst = appendString(dst, b.Node)
	dst = binary.AppendUvarint(dst, b.Dropped)
	dst = binary.AppendUvarint(dst, b.RingLost)
	dst = binary.AppendVarint(dst, base)
	dst = binary.AppendUvarint(dst, uint64(len(table.list)))
	for _, s := range table.list {
		dst = appendString(dst, s)
	}
	dst = binary.AppendUvarint(dst, uint64(len(b.Records)))
	for i := range b.Records {
		dst = appendRecord(dst, &b.Records[i], base, &table)
	}
	return dst, nil
}

// stringTable numbers a batch's distinct strings from 1; 0 is "".
type stringTable struct {
	index map[string]uint64
	list  []string
}

func (t *stringTable) addRecord(r *flow.Record) error {
	var name string
	if r.DNS != nil {
		name = r.DNS.Name
	}
	for _, s := range [...]string{r.Node, r.Comm, r.PodUID, r.ContainerID, name} {
		if len(s) > maxString {
			return fmt.Errorf("a string longer than %d bytes", maxString)
		}
		if _, ok := t.index[s]; !ok {
			t.list = append(t.list, s)
			t.index[s] = uint64(len(t.list))
		}
	}
	return nil
}

// errTimeRange says a record's time is outside what a batch can carry:
// the times flow records may carry (flow.InRange), every one of which has
// a UnixNano, as the encoding needs.
var errTimeRange = fmt.Errorf("%w: outside the years 1678 to 2261", ErrTime)

// CheckRecord says why a batch cannot carry r, if it cannot: AppendBatch
// refuses a batch with such a record.
func CheckRecord(r *flow.Record) error {
	switch {
	case !flow.InRange(r.Time):
		return fmt.Errorf("field time: %w: %s", errTimeRange, r.Time.Format(time.RFC3339Nano))
	case r.Proto < flow.TCP || r.Proto > flow.SCTP:
		return fmt.Errorf("protocol %v", r.Proto)
	case r.Observer != flow.Client && r.Observer != flow.Server:
		return fmt.Errorf("observer %v", r.Observer)
	case !r.Src.Addr().IsValid() || !r.Dst.Addr().IsValid():
		return errors.New("no source or destination address")
	case r.Count == 0 && r.DNS == nil:
		return errors.New("count 0 without a dns answer")
	case r.DNS != nil && (r.DNS.Name == "" || len(r.DNS.Name) > flow.MaxNameBytes):
		return fmt.Errorf("dns name %q empty or longer than %d bytes", r.DNS.Name, flow.MaxNameBytes)
	case r.DNS != nil && (len(r.DNS.Answers) == 0 || len(r.DNS.Answers) > flow.MaxAnswers):
		return fmt.Errorf("dns answer with %d addresses (want 1 to %d)", len(r.DNS.Answers), flow.MaxAnswers)
	}
	return nil
}

// flagDNS marks a record followed by a DNS answer: its name (an index in
// the string table), TTL, and addresses, each its length (4 or 16) and
// bytes.
const flagDNS = 1 << 6

func appendRecord(dst []byte, r *flow.Record, base int64, t *stringTable) []byte {
	src, dstAddr := r.Src.Addr().Unmap(), r.Dst.Addr().Unmap()
	flags := byte(r.Proto) | byte(r.Observer)<<2
	if !src.Is4() {
		flags |= 1 << 4
	}
	if !dstAddr.Is4() {
		flags |= 1 << 5
	}
	if r.DNS != nil {
		flags |= flagDNS
	}
	dst = append(dst, flags)
	dst = binary.AppendVarint(dst, r.Time.UnixNano()-base)
	dst = appendAddr(dst, src)
	dst = binary.AppendUvarint(dst, uint64(r.Src.Port()))
	dst = appendAddr(dst, dstAddr)
	dst = binary.AppendUvarint(dst, uint64(r.Dst.Port()))
	for _, v := range [...]uint64{r.Count, uint64(r.PID), r.CgroupID, uint64(r.Netns),
		t.index[r.Node], t.index[r.Comm], t.index[r.PodUID], t.index[r.ContainerID]} {
		dst = binary.AppendUvarint(dst, v)
	}
	if r.DNS != nil {
		dst = appendDNS(dst, r.DNS, t)
	}
	return dst
}

func appendDNS(dst []byte, d *flow.DNS, t *stringTable) []byte {
	dst = binary.AppendUvarint(dst, t.index[d.Name])
	dst = binary.AppendUvarint(dst, uint64(d.TTL))
	dst = binary.AppendUvarint(dst, uint64(len(d.Answers)))
	for _, a := range d.Answers {
		a = a.Unmap()
		raw := a.AsSlice()
		dst = append(append(dst, byte(len(raw))), raw...)
	}
	return dst
}

func appendAddr(dst []byte, a netip.Addr) []byte {
	if a.Is4() {
		b := a.As4()
		return append(dst, b[:]...)
	}
	b := a.As16()
	return append(dst, b[:]...)
}

func appendString(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

// DecodeBatch decodes a batch of at most maxRecords records (zero: no
// limit). A malformed batch gives a *BatchError; one with more records, an
// error wrapping ErrTooLarge.
func DecodeBatch(data []byte, maxRecords int) (*Batch, error) {
	b := &Batch{}
	if err := decodeBatch(b, data, maxRecords, nil); err != nil {
		return nil, err
	}
	return b, nil
}

// Decoder decodes batches as DecodeBatch does, into memory the caller
// reuses, and interns the strings of their tables: nodes and process names
// recur in every batch, so decoding one allocates none of them, and the
// learner compares strings that share memory. Its zero value is ready to
// use; it is safe for concurrent use.
type Decoder struct {
	strings stringCache
}

// Decode decodes data into b, reusing b's records' memory. Nothing in b
// refers to data afterwards.
func (c *Decoder) Decode(b *Batch, data []byte, maxRecords int) error {
	return decodeBatch(b, data, maxRecords, &c.strings)
}

// decodeBatch decodes into b, reusing its records' memory, and takes the
// strings of its table from cache when it is set.
func decodeBatch(b *Batch, data []byte, maxRecords int, cache *stringCache) error {
	d := &decoder{data: data, cache: cache}
	*b = Batch{Records: b.Records[:0]}
	if len(data) < len(magic) || string(data[:len(magic)]) != magic {
		return &BatchError{Field: "magic", Err: fmt.Errorf("not a flowpol batch (want %q)", magic)}
	}
	d.data = data[len(magic):]
	b.Agent = d.string("agent")
	b.Seq = d.uvarint("seq")
	b.Node = d.string("node")
	b.Dropped = d.uvarint("dropped")
	b.RingLost = d.uvarint("ring_lost")
	base := d.varint("base_time")
	table := d.table()
	n := d.uvarint("records")
	if d.err != nil {
		return d.err
	}
	switch {
	case b.Agent == "":
		return &BatchError{Field: "agent", Err: errors.New("empty")}
	case b.Seq == 0:
		return &BatchError{Field: "seq", Err: errors.New("must be at least 1")}
	case maxRecords > 0 && n > uint64(maxRecords):
		return fmt.Errorf("%w: %d records, at most %d accepted", ErrTooLarge, n, maxRecords)
	case n > uint64(len(d.data))/minRecordBytes:
		return &BatchError{Field: "records", Err: fmt.Errorf("%d records in %d bytes", n, len(d.data))}
	}
	b.Records = slices.Grow(b.Records, int(n))[:n]
	for i := range b.Records {
		d.record(&b.Records[i], base, table)
		if d.err != nil {
			d.err.Record = i + 1
			return d.err
		}
	}
	if len(d.data) != 0 {
		return &BatchError{Record: int(n), Field: "end", Err: fmt.Errorf("%d bytes after the last record", len(d.data))}
	}
	return nil
}

// minRecordBytes is the shortest record encoding: flags, time, two IPv4
// addresses and ports, and eight uvarints.
const minRecordBytes = 1 + 1 + 4 + 1 + 4 + 1 + 8

// decoder reads a batch; the first error sticks.
type decoder struct {
	data  []byte
	field string
	err   *BatchError
	cache *stringCache // nil: none
}

func (d *decoder) fail(field string, err error) {
	if d.err == nil {
		d.err = &BatchError{Field: field, Err: err}
	}
}

func (d *decoder) uvarint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.data)
	if n <= 0 {
		d.fail(field, errors.New("truncated or overlong number"))
		return 0
	}
	d.data = d.data[n:]
	return v
}

func (d *decoder) varint(field string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.data)
	if n <= 0 {
		d.fail(field, errors.New("truncated or overlong number"))
		return 0
	}
	d.data = d.data[n:]
	return v
}

func (d *decoder) bounded(field string, limit uint64) uint64 {
	v := d.uvarint(field)
	if v > limit {
		d.fail(field, fmt.Errorf("%d is more than %d", v, limit))
		return 0
	}
	return v
}

func (d *decoder) bytes(field string, n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.data) < n {
		d.fail(field, errors.New("truncated"))
		return nil
	}
	b := d.data[:n]
	d.data = d.data[n:]
	return b
}

func (d *decoder) string(field string) string {
	n := d.bounded(field, maxString)
	return string(d.bytes(field, int(n)))
}

// table reads the string table; index 0 is "".
func (d *decoder) table() []string {
	n := d.bounded("strings", uint64(len(d.data)))
	if d.err != nil {
		return nil
	}
	t := make([]string, 1, n+1)
	for range n {
		if d.cache == nil {
			t = append(t, d.string("strings"))
			continue
		}
		t = append(t, d.cache.get(d.bytes("strings", int(d.bounded("strings", maxString)))))
	}
	return t
}

// stringCache interns the strings of batches (see Decoder). It is safe for
// concurrent use.
type stringCache struct {
	mu sync.Mutex
	m  map[string]string
}

// maxCachedStrings bounds a stringCache; past it, it starts again.
const maxCachedStrings = 1 << 16

func (c *stringCache) get(b []byte) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[string(b)]; ok {
		return s
	}
	if c.m == nil || len(c.m) >= maxCachedStrings {
		c.m = make(map[string]string)
	}
	s := string(b)
	c.m[s] = s
	return s
}

func (d *decoder) addr(field string, v6 bool) netip.Addr {
	if v6 {
		b := d.bytes(field, 16)
		if b == nil {
			return netip.Addr{}
		}
		return netip.AddrFrom16([16]byte(b)).Unmap()
	}
	b := d.bytes(field, 4)
	if b == nil {
		return netip.Addr{}
	}
	return netip.AddrFrom4([4]byte(b))
}

func (d *decoder) record(r *flow.Record, base int64, table []string) {
	flags := d.bytes("flags", 1)
	if flags == nil {
		return
	}
	f := flags[0]
	r.Proto, r.Observer = flow.Proto(f&3), flow.Observer(f>>2&3)
	r.DNS = nil
	if r.Proto == 0 || f>>7 != 0 {
		d.fail("proto", fmt.Errorf("flags %#x", f))
		return
	}
	if r.Observer != flow.Client && r.Observer != flow.Server {
		d.fail("observer", fmt.Errorf("flags %#x", f))
		return
	}
	r.Time = time.Unix(0, base+d.varint("time")).UTC() // wraps back from any base
	if !flow.InRange(r.Time) && d.err == nil {
		d.fail("time", fmt.Errorf("%w: %s", errTimeRange, r.Time.Format(time.RFC3339Nano)))
		return
	}
	r.Src = netip.AddrPortFrom(d.addr("src_ip", f&(1<<4) != 0), uint16(d.bounded("src_port", math.MaxUint16)))
	r.Dst = netip.AddrPortFrom(d.addr("dst_ip", f&(1<<5) != 0), uint16(d.bounded("dst_port", math.MaxUint16)))
	r.Count = d.uvarint("count")
	r.PID = uint32(d.bounded("pid", math.MaxUint32))
	r.CgroupID = d.uvarint("cgroup_id")
	r.Netns = uint32(d.bounded("netns", math.MaxUint32))
	last := uint64(len(table) - 1)
	r.Node = table[d.bounded("node", last)]
	r.Comm = table[d.bounded("comm", last)]
	r.PodUID = table[d.bounded("pod_uid", last)]
	r.ContainerID = table[d.bounded("container_id", last)]
	if f&flagDNS != 0 {
		r.DNS = d.dns(table)
	}
	if r.Count == 0 && r.DNS == nil && d.err == nil {
		d.fail("count", errors.New("must be at least 1 (0 only with a dns answer)"))
	}
}

// dns reads a record's DNS answer.
func (d *decoder) dns(table []string) *flow.DNS {
	out := &flow.DNS{Name: table[d.bounded("dns_name", uint64(len(table)-1))]}
	out.TTL = uint32(d.bounded("dns_ttl", math.MaxUint32))
	n := d.bounded("dns_answers", flow.MaxAnswers)
	if d.err != nil {
		return nil
	}
	if out.Name == "" || len(out.Name) > flow.MaxNameBytes || n == 0 {
		d.fail("dns", fmt.Errorf("name %q, %d addresses", out.Name, n))
		return nil
	}
	out.Answers = make([]netip.Addr, 0, n)
	for range n {
		l := d.bytes("dns_answers", 1)
		if l == nil || (l[0] != 4 && l[0] != 16) {
			d.fail("dns_answers", errors.New("an address of neither 4 nor 16 bytes"))
			return nil
		}
		out.Answers = append(out.Answers, d.addr("dns_answers", l[0] == 16))
	}
	return out
}
