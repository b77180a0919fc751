//go:build linux && (386 || amd64 || arm64)

package enforce

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
	corev1 "k8s.io/api/core/v1"

	"github.com/flowpol/flowpol/bpf"
	"github.com/flowpol/flowpol/rules"
)

// Enforcer holds the loaded programs, their attachments and the rule
// tables in force.
type Enforcer struct {
	opts  Options
	objs  bpf.EnforceObjects
	inner map[string]*ebpf.MapSpec // the rule maps' inner map templates
	att   *attachments
	ring  *ringbuf.Reader

	mu       sync.Mutex
	revision uint32
	tables   map[uint32]*rules.Tables // the last two revisions, for verdicts in flight
}

// New loads the programs in the mode chosen and attaches them. No rules
// are in force until the first Update: until then every packet passes.
func New(opts Options) (*Enforcer, error) {
	e, err := load(opts)
	if err != nil {
		return nil, err
	}
	if e.att, err = attach(&e.opts, e.objs.FromPod, e.objs.ToPod); err != nil {
		return nil, errors.Join(err, e.closeObjects())
	}
	for _, a := range e.att.describe() {
		e.opts.Logger.Info("enforcer attached", "at", a, "audit", e.opts.Audit)
	}
	return e, nil
}

// load loads the programs and maps, attached nowhere.
func load(opts Options) (*Enforcer, error) {
	opts.setDefaults()
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("lift the memlock limit: %w", err)
	}
	e := &Enforcer{opts: opts, tables: map[uint32]*rules.Tables{}, inner: map[string]*ebpf.MapSpec{}, att: &attachments{}}
	if err := e.loadObjects(); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Enforcer) loadObjects() error {
	spec, err := bpf.LoadEnforce()
	if err != nil {
		return fmt.Errorf("load enforcer spec: %w", err)
	}
	var audit uint8
	if e.opts.Audit {
		audit = 1
	}
	if err := spec.Variables[bpf.EnforceVarAudit].Set(audit); err != nil {
		return fmt.Errorf("set audit: %w", err)
	}
	if e.opts.ConntrackSize > 0 {
		spec.Maps[bpf.EnforceMapConntrack].MaxEntries = e.opts.ConntrackSize
	}
	for _, name := range []string{bpf.EnforceMapEndpoints, bpf.EnforceMapCidrs, bpf.EnforceMapPolicy} {
		e.inner[name] = spec.Maps[name].InnerMap.Copy()
	}
	if err := spec.LoadAndAssign(&e.objs, nil); err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return fmt.Errorf("load enforcer: %+v", ve)
		}
		return fmt.Errorf("load enforcer: %w", err)
	}
	if e.ring, err = ringbuf.NewReader(e.objs.Verdicts); err != nil {
		return errors.Join(fmt.Errorf("open verdict ring buffer: %w", err), e.closeObjects())
	}
	return nil
}

// Attached describes where the programs are attached.
func (e *Enforcer) Attached() []string { return e.att.describe() }

// Update puts tables in force, atomically: they are written to the unused
// slot, then switched in by bumping the revision, whose low bit is the slot.
func (e *Enforcer) Update(t *rules.Tables) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	rev := e.revision + 1
	slot := rev & 1
	fills := []struct {
		name  string
		outer *ebpf.Map
		fill  func(*ebpf.Map) error
	}{
		{bpf.EnforceMapEndpoints, e.objs.Endpoints, func(m *ebpf.Map) error { return fillEndpoints(m, t) }},
		{bpf.EnforceMapCidrs, e.objs.Cidrs, func(m *ebpf.Map) error { return fillCIDRs(m, t) }},
		{bpf.EnforceMapPolicy, e.objs.Policy, func(m *ebpf.Map) error { return fillPolicy(m, t) }},
	}
	for _, f := range fills {
		if err := e.replaceInner(slot, f.name, f.outer, f.fill); err != nil {
			return err
		}
	}
	if err := e.objs.Current.Put(uint32(0), bpf.EnforceState{Revision: rev}); err != nil {
		return fmt.Errorf("switch rule tables: %w", err)
	}
	e.revision = rev
	e.tables[rev] = t
	delete(e.tables, rev-2)
	return nil
}

// replaceInner builds a new inner map, fills it and puts it in a slot.
func (e *Enforcer) replaceInner(slot uint32, name string, outer *ebpf.Map, fill func(*ebpf.Map) error) error {
	m, err := ebpf.NewMap(e.inner[name])
	if err != nil {
		return fmt.Errorf("create %s map: %w", name, err)
	}
	defer m.Close() //nolint:errcheck // the outer map keeps its own reference; this one only goes
	if err := fill(m); err != nil {
		return fmt.Errorf("fill %s map: %w", name, err)
	}
	if err := outer.Put(slot, m); err != nil {
		return fmt.Errorf("install %s map: %w", name, err)
	}
	return nil
}

// fillEndpoints writes each pod address's identity with the policies that
// isolate the identity, so that deciding needs one lookup for both.
func fillEndpoints(m *ebpf.Map, t *rules.Tables) error {
	for a, id := range t.Endpoints {
		ep := bpf.EnforceEndpoint{Id: id}
		for _, d := range []rules.Direction{rules.Egress, rules.Ingress} {
			ep.Isolated[dirNumber(d)] = t.Isolation[rules.IsoKey{Class: id, Dir: d}]
		}
		if err := m.Put(a.As16(), ep); err != nil {
			return fmt.Errorf("%s: %w", a, err)
		}
	}
	return nil
}

func fillCIDRs(m *ebpf.Map, t *rules.Tables) error {
	for p, id := range t.CIDRs {
		k := bpf.EnforceLpmAddr{Prefixlen: uint32(p.Bits()), Addr: p.Addr().As16()}
		if err := m.Put(k, id); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil
}

// fillPolicy writes the policy entries: the key's prefix covers self,
// other and direction (72 bits), then the protocol and port bits fixed.
func fillPolicy(m *ebpf.Map, t *rules.Tables) error {
	for k, rule := range t.Policy {
		key := bpf.EnforcePolicyKey{
			Prefixlen: 72 + uint32(k.Bits),
			Self:      k.Self,
			Other:     k.Other,
			Dir:       dirNumber(k.Dir),
			Proto:     k.Proto,
			Port:      bits.ReverseBytes16(k.Port), // network order in memory
		}
		if err := m.Put(key, rule); err != nil {
			return fmt.Errorf("policy %+v: %w", k, err)
		}
	}
	return nil
}

func dirNumber(d rules.Direction) uint8 {
	if d == rules.Ingress {
		return 1
	}
	return 0
}

// Run passes each verdict to fn until ctx ends. The datapath wakes it for
// each 128 verdicts, and it takes what is waiting every 100 ms: a verdict
// reaches fn within about 100 ms.
func (e *Enforcer) Run(ctx context.Context, fn func(Verdict)) error {
	var rec ringbuf.Record
	var raw bpf.EnforceVerdict
	for ctx.Err() == nil {
		e.ring.SetDeadline(time.Now().Add(100 * time.Millisecond))
		err := e.ring.ReadInto(&rec)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read verdicts: %w", err)
		}
		if err := decodeVerdict(rec.RawSample, &raw); err != nil {
			return err
		}
		fn(e.verdict(&raw))
	}
	return nil
}

// verdict attributes a raw verdict through the tables of its revision.
func (e *Enforcer) verdict(raw *bpf.EnforceVerdict) Verdict {
	v := Verdict{
		Time:      time.Now(),
		Kind:      Kind(raw.Kind),
		Audit:     raw.Audit != 0,
		Direction: rules.Egress,
		Src:       netip.AddrPortFrom(unmap(raw.Saddr), bits.ReverseBytes16(raw.Sport)),
		Dst:       netip.AddrPortFrom(unmap(raw.Daddr), bits.ReverseBytes16(raw.Dport)),
		Proto:     protoName(raw.Proto),
	}
	if raw.Dir == 1 {
		v.Direction = rules.Ingress
	}
	e.mu.Lock()
	t := e.tables[raw.Revision]
	e.mu.Unlock()
	if t == nil {
		return v
	}
	v.SrcPod, v.DstPod = t.PodOf[netip.AddrFrom16(raw.Saddr)], t.PodOf[netip.AddrFrom16(raw.Daddr)]
	switch {
	case v.Kind == Allowed && raw.Why == rules.OwnNodeRule:
		v.OwnNode = true
	case v.Kind == Allowed && raw.Why != 0:
		r := &t.Set.Rules[raw.Why-1]
		v.Rule, v.Policy = r, r.Policy
	case v.Kind != Allowed && raw.Why != 0:
		v.Policy = t.Set.Isolation[raw.Why-1].Policy
	}
	return v
}

func decodeVerdict(b []byte, v *bpf.EnforceVerdict) error {
	if _, err := binary.Decode(b, binary.NativeEndian, v); err != nil {
		return fmt.Errorf("decode verdict: %w", err)
	}
	return nil
}

func unmap(b [16]byte) netip.Addr { return netip.AddrFrom16(b).Unmap() }

func protoName(p uint8) corev1.Protocol {
	switch p {
	case 6:
		return corev1.ProtocolTCP
	case 17:
		return corev1.ProtocolUDP
	case 132:
		return corev1.ProtocolSCTP
	}
	return corev1.Protocol(fmt.Sprint(p))
}

// Stats reads the datapath's counters, summed over CPUs.
func (e *Enforcer) Stats() (Stats, error) {
	var out [6]uint64
	for i := range out {
		var per []uint64
		if err := e.objs.Stats.Lookup(uint32(i), &per); err != nil {
			return Stats{}, fmt.Errorf("read stat %d: %w", i, err)
		}
		for _, n := range per {
			out[i] += n
		}
	}
	return Stats{New: out[0], Tracked: out[1], Dropped: out[2], Audited: out[3], Redecided: out[4], Lost: out[5]}, nil
}

// Close detaches the programs (with Options.Pin, leaves them attached and
// pinned) and frees the maps the programs no longer hold.
func (e *Enforcer) Close() error {
	return errors.Join(e.att.close(e.opts.Pin != ""), e.closeObjects())
}

func (e *Enforcer) closeObjects() error {
	var err error
	if e.ring != nil {
		err = e.ring.Close()
	}
	return errors.Join(err, e.objs.Close())
}
