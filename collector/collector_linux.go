//go:build linux && (386 || amd64 || arm64)

package collector

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/flowpol/flowpol/bpf"
	"github.com/flowpol/flowpol/flow"
)

// Collector captures flows on this node. Run reads them; Close detaches.
type Collector struct {
	opts     Options
	coll     *ebpf.Collection
	links    []link.Link
	ring     *ringbuf.Reader
	attached []string
	cgroups  *cgroupPaths
	monoBase int64 // wall clock minus monotonic clock, ns

	mu       sync.Mutex
	answers  *answerCache // used by Run's goroutine only
	reported map[bpf.FlowsFlowKey]uint64
	flushed  uint64
	recycled uint64
	evicted  uint64
}

// New loads the programs, chooses the attach points the kernel supports,
// and attaches them. The attach points taken are logged and returned by
// Attached.
func New(opts Options) (*Collector, error) {
	opts.setDefaults()
	if err := checkCapabilities(); err != nil {
		return nil, err
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("lift the memlock limit: %w", err)
	}
	base, err := monoBase()
	if err != nil {
		return nil, err
	}
	c := &Collector{opts: opts, monoBase: base, reported: map[bpf.FlowsFlowKey]uint64{}, cgroups: newCgroupPaths(opts.CgroupRoot),
		answers: newAnswerCache(opts.FlowsMapSize)}
	if err := c.load(); err != nil {
		return nil, errors.Join(err, c.Close())
	}
	for _, a := range c.attached {
		opts.Logger.Info("capture attached", "at", a)
	}
	return c, nil
}

func monoBase() (int64, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0, fmt.Errorf("read the monotonic clock: %w", err)
	}
	return time.Now().UnixNano() - ts.Nano(), nil
}

// tcpAttach is one way of seeing TCP connections established: its
// programs, and how to attach them.
type tcpAttach struct {
	name     string
	programs []string
	attach   func(progs map[string]*ebpf.Program) ([]link.Link, error)
}

func tcpAttaches() []tcpAttach {
	return []tcpAttach{
		{"tp_btf/inet_sock_set_state", []string{bpf.FlowsProgTcpStateBtf}, func(p map[string]*ebpf.Program) ([]link.Link, error) {
			l, err := link.AttachTracing(link.TracingOptions{Program: p[bpf.FlowsProgTcpStateBtf]})
			return []link.Link{l}, err
		}},
		{"tracepoint/sock/inet_sock_set_state", []string{bpf.FlowsProgTcpStateTp}, func(p map[string]*ebpf.Program) ([]link.Link, error) {
			l, err := link.Tracepoint("sock", "inet_sock_set_state", p[bpf.FlowsProgTcpStateTp], nil)
			return []link.Link{l}, err
		}},
		{"kprobe/tcp_v4_connect,tcp_v6_connect,tcp_finish_connect,kretprobe/inet_csk_accept", kprobePrograms(), attachKprobes},
	}
}

func kprobePrograms() []string {
	return []string{bpf.FlowsProgTcpV4ConnectKp, bpf.FlowsProgTcpV6ConnectKp, bpf.FlowsProgTcpFinishConnectKp, bpf.FlowsProgInetCskAcceptKp}
}

func attachKprobes(p map[string]*ebpf.Program) ([]link.Link, error) {
	var links []link.Link
	for _, k := range []struct {
		symbol, program string
		ret             bool
	}{
		{"tcp_v4_connect", bpf.FlowsProgTcpV4ConnectKp, false},
		{"tcp_v6_connect", bpf.FlowsProgTcpV6ConnectKp, false},
		{"tcp_finish_connect", bpf.FlowsProgTcpFinishConnectKp, false},
		{"inet_csk_accept", bpf.FlowsProgInetCskAcceptKp, true},
	} {
		attach := link.Kprobe
		if k.ret {
			attach = link.Kretprobe
		}
		l, err := attach(k.symbol, p[k.program], nil)
		if err != nil {
			return links, fmt.Errorf("%s: %w", k.symbol, err)
		}
		links = append(links, l)
	}
	return links, nil
}

// load tries each TCP attach point in turn, loading only its program, and
// keeps the first the kernel accepts.
func (c *Collector) load() error {
	var errs []error
	for _, ta := range tcpAttaches() {
		if c.opts.TCPAttach != "" && c.opts.TCPAttach != ta.name {
			continue
		}
		err := c.loadWith(ta)
		if err == nil {
			return nil
		}
		c.opts.Logger.Debug("capture attach point unavailable", "at", ta.name, "err", err)
		errs = append(errs, fmt.Errorf("%s: %w", ta.name, err))
		if cerr := c.closeObjects(); cerr != nil {
			errs = append(errs, fmt.Errorf("%s: undo: %w", ta.name, cerr))
		}
	}
	if len(errs) == 0 {
		return fmt.Errorf("unknown TCP attach point %q", c.opts.TCPAttach)
	}
	return fmt.Errorf("no TCP attach point works on this kernel: %w", errors.Join(errs...))
}

func (c *Collector) loadWith(ta tcpAttach) error {
	spec, err := bpf.LoadFlows()
	if err != nil {
		return err
	}
	for _, other := range tcpAttaches() {
		for _, prog := range other.programs {
			if !slices.Contains(ta.programs, prog) {
				delete(spec.Programs, prog)
			}
		}
	}
	spec.Maps[bpf.FlowsMapFlows].MaxEntries = uint32(c.opts.FlowsMapSize)
	spec.Maps[bpf.FlowsMapUdpSeen].MaxEntries = uint32(c.opts.FlowsMapSize)
	spec.Maps[bpf.FlowsMapEvents].MaxEntries = uint32(c.opts.RingBufferBytes)
	if err := spec.Variables[bpf.FlowsVarSkipLoopback].Set(!c.opts.KeepLoopback); err != nil {
		return fmt.Errorf("set %s: %w", bpf.FlowsVarSkipLoopback, err)
	}
	if c.coll, err = ebpf.NewCollection(spec); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	links, err := ta.attach(c.coll.Programs)
	for _, l := range links {
		if l != nil {
			c.links = append(c.links, l)
		}
	}
	if err != nil {
		return fmt.Errorf("attach: %w", err)
	}
	c.attached = append(c.attached, "tcp: "+ta.name)
	if err := c.attachUDP(); err != nil {
		return err
	}
	c.ring, err = ringbuf.NewReader(c.coll.Maps[bpf.FlowsMapEvents])
	if err != nil {
		return fmt.Errorf("open the ring buffer: %w", err)
	}
	return nil
}

func (c *Collector) attachUDP() error {
	for _, a := range []struct {
		program string
		typ     ebpf.AttachType
	}{{bpf.FlowsProgUdpEgress, ebpf.AttachCGroupInetEgress}, {bpf.FlowsProgUdpIngress, ebpf.AttachCGroupInetIngress}} {
		l, err := link.AttachCgroup(link.CgroupOptions{Path: c.opts.CgroupRoot, Attach: a.typ, Program: c.coll.Programs[a.program]})
		if err != nil {
			return fmt.Errorf("attach %s to %s: %w", a.program, c.opts.CgroupRoot, err)
		}
		c.links = append(c.links, l)
	}
	c.attached = append(c.attached, "udp: cgroup_skb/egress and cgroup_skb/ingress on "+c.opts.CgroupRoot)
	return nil
}

// Attached names the attach points in use.
func (c *Collector) Attached() []string { return c.attached }

// closeObjects detaches the links and frees the ring buffer and maps; it
// returns what failed.
func (c *Collector) closeObjects() error {
	var errs []error
	for _, l := range c.links {
		if err := l.Close(); err != nil {
			errs = append(errs, fmt.Errorf("detach: %w", err))
		}
	}
	c.links, c.attached = nil, nil
	if c.ring != nil {
		if err := c.ring.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close ring buffer: %w", err))
		}
		c.ring = nil
	}
	if c.coll != nil {
		c.coll.Close()
		c.coll = nil
	}
	return errors.Join(errs...)
}

// Close detaches the programs and frees their maps.
func (c *Collector) Close() error { return c.closeObjects() }

// checkCapabilities names the first capability capture needs that the
// process does not have.
func checkCapabilities() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("read capabilities: %w", err)
	}
	has := func(c uint) bool { return data[c/32].Effective&(1<<(c%32)) != 0 }
	if has(unix.CAP_SYS_ADMIN) && has(unix.CAP_NET_ADMIN) {
		return nil
	}
	for _, c := range []struct {
		bit  uint
		name string
	}{{unix.CAP_BPF, "CAP_BPF"}, {unix.CAP_PERFMON, "CAP_PERFMON"}, {unix.CAP_NET_ADMIN, "CAP_NET_ADMIN"}} {
		if !has(c.bit) {
			return fmt.Errorf("%w: capture needs root, or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN; this process (uid %d) lacks %s", ErrPermission, os.Geteuid(), c.name)
		}
	}
	return nil
}

// Run emits records until ctx ends: a new flow as soon as the kernel sees
// it, and repeats counted since the last flush every FlushInterval. It
// flushes once more before it returns. emit is called from one goroutine;
// an error from it ends Run.
func (c *Collector) Run(ctx context.Context, emit func(*flow.Record) error) error {
	events := make(chan ringEvent, 1024)
	readErr := make(chan error, 1)
	go c.readRing(ctx, events, readErr)
	tick := time.NewTicker(c.opts.FlushInterval)
	defer tick.Stop()
	for {
		select {
		case ev, ok := <-events:
			if !ok { // the reader stopped: ctx ended, or reading failed
				if err := <-readErr; err != nil {
					return err
				}
				return c.Flush(emit)
			}
			if err := c.emitRing(&ev, emit); err != nil {
				return err
			}
		case now := <-tick.C:
			c.answers.prune(now)
			if err := c.Flush(emit); err != nil {
				return err
			}
		}
	}
}

// ringEvent is what the ring buffer carried: a new flow, or a DNS answer.
type ringEvent struct {
	flow bpf.FlowsEvent
	dns  *bpf.FlowsDnsEvent
}

func (c *Collector) emitRing(ev *ringEvent, emit func(*flow.Record) error) error {
	if ev.dns != nil {
		return c.emitAnswer(ev.dns, emit)
	}
	return c.emitEvent(&ev.flow, emit)
}

var (
	flowEventBytes = binary.Size(bpf.FlowsEvent{})
	dnsEventBytes  = binary.Size(bpf.FlowsDnsEvent{})
)

// decodeRing decodes a ring buffer record, telling the two kinds apart by
// their sizes.
func decodeRing(raw []byte) (ringEvent, error) {
	var ev ringEvent
	var err error
	switch len(raw) {
	case flowEventBytes:
		_, err = binary.Decode(raw, binary.NativeEndian, &ev.flow)
	case dnsEventBytes:
		ev.dns = new(bpf.FlowsDnsEvent)
		_, err = binary.Decode(raw, binary.NativeEndian, ev.dns)
	default:
		err = fmt.Errorf("%d bytes, neither a flow (%d) nor a DNS answer (%d)", len(raw), flowEventBytes, dnsEventBytes)
	}
	return ev, err
}

// emitAnswer emits a DNS answer a pod received, as a record of count 0
// from the pod to the server's port 53, unless the pod was given the same
// answer recently.
func (c *Collector) emitAnswer(ev *bpf.FlowsDnsEvent, emit func(*flow.Record) error) error {
	n := min(int(ev.Len), len(ev.Payload))
	d, ok := parseAnswer(ev.Payload[:n], ev.Proto != ipprotoUDP)
	if !ok {
		return nil
	}
	k := bpf.FlowsFlowKey{CgroupId: ev.CgroupId, Family: ev.Family, Proto: ev.Proto, Observer: observerClient,
		Saddr: ev.Daddr, Daddr: ev.Saddr, Dport: ev.Sport}
	rec := c.record(&k, ev.Dport, ev.TsNs, 0)
	if !c.answers.fresh(ev.CgroupId, &d, rec.Time) {
		return nil
	}
	rec.DNS = &d
	return emit(&rec)
}

// readRing passes ring buffer events on until ctx ends, then closes events
// after sending its error (nil when ctx ended) to errc.
func (c *Collector) readRing(ctx context.Context, events chan<- ringEvent, errc chan<- error) {
	defer close(events)
	var rec ringbuf.Record
	for ctx.Err() == nil {
		c.ring.SetDeadline(time.Now().Add(100 * time.Millisecond))
		err := c.ring.ReadInto(&rec)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		if err != nil {
			errc <- fmt.Errorf("read the ring buffer: %w", err)
			return
		}
		ev, err := decodeRing(rec.RawSample)
		if err != nil {
			errc <- fmt.Errorf("decode a ring buffer event: %w", err)
			return
		}
		select {
		case events <- ev:
		case <-ctx.Done():
		}
	}
	errc <- nil
}

// emitEvent emits a new flow, unless a flush already counted it.
func (c *Collector) emitEvent(ev *bpf.FlowsEvent, emit func(*flow.Record) error) error {
	c.mu.Lock()
	_, known := c.reported[ev.Key]
	if !known {
		c.reported[ev.Key] = 1
	}
	c.mu.Unlock()
	if known {
		return nil
	}
	rec := c.record(&ev.Key, ev.Sport, ev.TsNs, 1)
	rec.PID = ev.Pid
	rec.Comm = commString(ev.Comm)
	return emit(&rec)
}

func commString(b [16]int8) string {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c == 0 {
			break
		}
		out = append(out, byte(c))
	}
	return string(out)
}

// Flush emits, for every flow in the kernel's map, the repeats counted since
// it was last reported. A flow the map evicted and saw again starts over.
func (c *Collector) Flush(emit func(*flow.Record) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var (
		key  bpf.FlowsFlowKey
		val  bpf.FlowsFlowVal
		seen = make(map[bpf.FlowsFlowKey]bool, len(c.reported))
	)
	it := c.coll.Maps[bpf.FlowsMapFlows].Iterate()
	for it.Next(&key, &val) {
		seen[key] = true
		done, known := c.reported[key]
		if known && val.Count < done {
			c.recycled++ // evicted and seen again between two flushes
			done = 0
		}
		if val.Count == done {
			continue
		}
		rec := c.record(&key, 0, val.LastNs, val.Count-done)
		c.reported[key] = val.Count
		c.flushed++
		if err := emit(&rec); err != nil {
			return err
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("read the flows map: %w", err)
	}
	for k := range c.reported {
		if !seen[k] {
			delete(c.reported, k) // evicted; repeats since this flush's last look were lost
			c.evicted++
		}
	}
	return nil
}

// record turns a flow key into a flow record.
func (c *Collector) record(k *bpf.FlowsFlowKey, sport uint16, monoNS uint64, count uint64) flow.Record {
	src, dst := keyAddr(k.Family, k.Saddr), keyAddr(k.Family, k.Daddr)
	rec := flow.Record{
		Time:     time.Unix(0, c.monoBase+int64(monoNS)).UTC(),
		Node:     c.opts.Node,
		Proto:    protoOf(k.Proto),
		Src:      netip.AddrPortFrom(src, sport),
		Dst:      netip.AddrPortFrom(dst, k.Dport),
		Observer: flow.Client,
		CgroupID: k.CgroupId,
		Netns:    k.Netns,
		Count:    count,
	}
	if k.Observer == observerServer {
		rec.Observer = flow.Server
	}
	if p, ok := c.cgroups.path(k.CgroupId); ok {
		rec.PodUID, rec.ContainerID, _ = PodOf(p)
	}
	if rec.Netns == 0 { // cgroup_skb programs cannot read it
		rec.Netns = c.cgroups.netnsOf(k.CgroupId)
	} else {
		c.cgroups.noteNetns(k.CgroupId, rec.Netns)
	}
	return rec
}

const (
	afInet         = 2
	observerClient = 1
	observerServer = 2
	ipprotoUDP     = 17
)

func keyAddr(family uint8, b [16]uint8) netip.Addr {
	if family == afInet {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16(b).Unmap()
}

func protoOf(p uint8) flow.Proto {
	if p == ipprotoUDP {
		return flow.UDP
	}
	return flow.TCP
}
