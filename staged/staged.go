package staged

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/check"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/topology"
)

// AttachmentName is the name the state is stored under in the baseline
// (baseline.Delta.Attachments).
const AttachmentName = "staged/v1"

// stateVersion is the layout of the encoded state.
const stateVersion = 1

// Options configure New.
type Options struct {
	// Policies are the staged set.
	Policies []networkingv1.NetworkPolicy
	// State is what an earlier Tracker stored (Pending.State), or nil.
	State []byte
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Tracker keeps the would-deny record of a staged set. It is safe for
// concurrent use.
type Tracker struct {
	now func() time.Time

	mu       sync.Mutex
	policies []networkingv1.NetworkPolicy
	dec      *deciders
	view     topology.Window // the workloads and cluster facts the deltas carried
	st       *state
	stored   bool   // st is what the store holds
	gen      uint64 // counts the changes of the set
	// decided caches each edge's decision until the set, the workloads or
	// the namespaces change.
	decided map[topology.Edge]decision
}

// decision is an edge's verdict under the set: denied, as check decides
// it, and blamed on the policies that deny it in each direction.
type decision struct {
	d      check.Denial
	denied bool
	blame  []blame
}

// blame is a policy that would deny a flow, and in which direction.
type blame struct {
	policy  string
	ingress bool
}

// state is what is stored: per policy its record, and the flows the set
// would deny.
type state struct {
	Version  int                     `json:"version"`
	Since    time.Time               `json:"since"` // when the set was last changed
	Policies map[string]*policyState `json:"policies"`
	Flows    []*flowState            `json:"flows"`
	byEdge   map[topology.Edge]*flowState
	touched  bool // a flow's decision or cells changed
}

// policyState is one staged policy's record.
type policyState struct {
	Fingerprint string    `json:"fingerprint"`
	Since       time.Time `json:"since"` // when this version was staged here
	FirstDeny   time.Time `json:"first_deny,omitzero"`
	LastDeny    time.Time `json:"last_deny,omitzero"`
	// DeniedAt is when, by the clock, a delta last had a flow it would
	// deny: how long it has been clean is counted from there, not from
	// the flow's own time, which a replay or a late agent sets back.
	DeniedAt    time.Time `json:"denied_at,omitzero"`
	Connections uint64    `json:"connections"` // would-deny connections, all flows
}

// flowState is one flow the set would deny: its latest decision, and its
// counts per bucket as the baseline keeps them.
type flowState struct {
	Edge     topology.Edge `json:"edge"`
	Target   topology.End  `json:"target"`
	Ingress  bool          `json:"ingress"`
	Policies []string      `json:"policies"`
	Reason   string        `json:"reason"`
	// Blamed are the policies that would deny it in either direction.
	Blamed []string `json:"blamed"`
	Cells  []cell   `json:"cells"` // by Start
}

// cell is a flow's evidence in one bucket: connections each side
// reported and the first and last moments, unix milliseconds.
type cell struct {
	Start  int64  `json:"start"`
	Client uint64 `json:"client,omitempty"`
	Server uint64 `json:"server,omitempty"`
	First  int64  `json:"first_ms"`
	Last   int64  `json:"last_ms"`
}

// New builds a tracker for the set, with the record stored in State: the
// policies whose content is unchanged keep theirs.
func New(opts Options) (*Tracker, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	t := &Tracker{now: opts.Now, view: topology.Window{Workloads: map[topology.WorkloadRef]topology.Workload{}}}
	st := &state{Version: stateVersion, Policies: map[string]*policyState{}}
	if len(opts.State) > 0 {
		var err error
		if st, err = decode(opts.State); err != nil {
			return nil, err
		}
	}
	t.st = st
	if err := t.Replace(opts.Policies); err != nil {
		return nil, err
	}
	t.stored = t.st == st && len(opts.State) > 0
	return t, nil
}

func decode(data []byte) (*state, error) {
	st := &state{}
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrState, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("%w: version %d, this flowpol reads %d", ErrState, st.Version, stateVersion)
	}
	if st.Policies == nil {
		st.Policies = map[string]*policyState{}
	}
	st.index()
	return st, nil
}

func (st *state) index() {
	st.byEdge = make(map[topology.Edge]*flowState, len(st.Flows))
	for _, f := range st.Flows {
		st.byEdge[f.Edge] = f
	}
}

// Fingerprint identifies a policy's content (its spec): the same on
// every side that reads the same policy.
func Fingerprint(p *networkingv1.NetworkPolicy) string {
	data, err := json.Marshal(&p.Spec)
	if err != nil { // a spec is plain data; cannot happen
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}

// Name is a policy's name as reports give it: NAMESPACE/NAME.
func Name(p *networkingv1.NetworkPolicy) string { return p.Namespace + "/" + p.Name }

// Replace stages another set. When it differs from the one before, the
// flows start afresh; a policy whose content is unchanged keeps its
// record, a new or changed one is staged from now.
func (t *Tracker) Replace(policies []networkingv1.NetworkPolicy) error {
	dec, err := newDeciders(t.namespaces(), policies)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now().UTC()
	next := map[string]*policyState{}
	for i := range policies {
		p := &policies[i]
		fp := Fingerprint(p)
		if old := t.st.Policies[Name(p)]; old != nil && old.Fingerprint == fp {
			next[Name(p)] = old
			continue
		}
		next[Name(p)] = &policyState{Fingerprint: fp, Since: now}
	}
	if !samePolicies(t.st.Policies, next) {
		t.stored = false
		t.gen++
		t.st = &state{Version: stateVersion, Since: now, Policies: next, byEdge: map[topology.Edge]*flowState{}}
	}
	t.policies, t.dec, t.decided = slices.Clone(policies), dec, nil
	return nil
}

func samePolicies(a, b map[string]*policyState) bool {
	return maps.EqualFunc(a, b, func(x, y *policyState) bool { return x.Fingerprint == y.Fingerprint })
}

func (t *Tracker) namespaces() map[string]map[string]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.view.Cluster.Namespaces
}

// Pending is the state after a delta, not yet adopted.
type Pending struct {
	st  *state
	gen uint64 // the set it was decided under
	// State is the state encoded, for baseline.Delta.Attachments under
	// AttachmentName; nil when the store holds it already.
	State []byte
	// FirstDenials are the policies that would deny something for the
	// first time, NAMESPACE/NAME, sorted.
	FirstDenials []string
	// Added are the would-deny connections the delta added, per policy
	// and direction.
	Added []Added
}

// Added is a delta's would-deny connections for one policy and
// direction.
type Added struct {
	Policy      string
	Ingress     bool
	Connections uint64
}

// Observe decides the delta's edges under the staged set, with the
// workloads and cluster facts it carries, and returns the state it leads
// to. Nothing changes until Commit.
func (t *Tracker) Observe(d *baseline.Delta) (*Pending, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.see(d); err != nil {
		return nil, err
	}
	next := t.st.clone()
	p := &Pending{st: next, gen: t.gen}
	now := t.now().UTC()
	added := map[Added]uint64{}
	for i := range d.Edges {
		e := &d.Edges[i]
		dc := t.decide(e.Edge)
		if !dc.denied {
			continue
		}
		n, first, last := next.add(dc, e.Cells)
		for _, b := range dc.blame {
			ps := next.Policies[b.policy]
			if ps == nil {
				continue
			}
			if ps.FirstDeny.IsZero() {
				p.FirstDenials = append(p.FirstDenials, b.policy)
			}
			ps.note(n, first, last, now)
			added[Added{Policy: b.policy, Ingress: b.ingress}] += n
		}
	}
	slices.Sort(p.FirstDenials)
	p.FirstDenials = slices.Compact(p.FirstDenials)
	for k, n := range added {
		k.Connections = n
		p.Added = append(p.Added, k)
	}
	slices.SortFunc(p.Added, func(a, b Added) int { return cmpAdded(a, b) })
	if t.stored && len(p.Added) == 0 && !next.touched {
		return p, nil
	}
	data, err := json.Marshal(next)
	if err != nil {
		return nil, fmt.Errorf("encode staged state: %w", err)
	}
	p.State = data
	return p, nil
}

func cmpAdded(a, b Added) int {
	if a.Policy != b.Policy {
		if a.Policy < b.Policy {
			return -1
		}
		return 1
	}
	if a.Ingress == b.Ingress {
		return 0
	}
	if a.Ingress {
		return -1
	}
	return 1
}

// decide decides an edge, once until what decides it changes.
func (t *Tracker) decide(e topology.Edge) decision {
	c, ok := t.decided[e]
	if !ok {
		c = t.dec.decide(&t.view, e)
		if t.decided == nil {
			t.decided = map[topology.Edge]decision{}
		}
		t.decided[e] = c
	}
	return c
}

// see takes in the workloads and cluster facts a delta carries; new
// namespace labels need a new decider.
func (t *Tracker) see(d *baseline.Delta) error {
	for ref, w := range d.Workloads {
		t.view.Workloads[ref] = w
	}
	if len(d.Workloads) > 0 {
		t.decided = nil
	}
	if d.Cluster == nil {
		return nil
	}
	changed := !maps.EqualFunc(t.view.Cluster.Namespaces, d.Cluster.Namespaces, maps.Equal)
	t.view.Cluster = *d.Cluster
	if !changed {
		return nil
	}
	dec, err := newDeciders(d.Cluster.Namespaces, t.policies)
	if err != nil {
		return err
	}
	t.dec, t.decided = dec, nil
	return nil
}

func (ps *policyState) note(n uint64, first, last, now time.Time) {
	ps.Connections = flow.AddCounts(ps.Connections, n)
	ps.DeniedAt = now
	if ps.FirstDeny.IsZero() || first.Before(ps.FirstDeny) {
		ps.FirstDeny = first
	}
	if last.After(ps.LastDeny) {
		ps.LastDeny = last
	}
}

// Commit adopts p's state, once the store has committed it, unless the
// set changed since p was decided: the next delta then stores the new
// set's state.
func (t *Tracker) Commit(p *Pending) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p.gen != t.gen {
		return
	}
	t.st, t.stored = p.st, true
}

// clone copies the state deep enough that adding to the copy leaves st
// as it was.
func (st *state) clone() *state {
	c := &state{Version: st.Version, Since: st.Since, Policies: make(map[string]*policyState, len(st.Policies)), Flows: make([]*flowState, len(st.Flows))}
	for k, v := range st.Policies {
		ps := *v
		c.Policies[k] = &ps
	}
	for i, f := range st.Flows {
		fc := *f
		fc.Cells = slices.Clone(f.Cells)
		fc.Blamed = slices.Clone(f.Blamed)
		c.Flows[i] = &fc
	}
	c.index()
	return c
}

// add adds a denied delta edge's cells to its flow, with the latest
// decision, and returns the connections that adds, as windows count
// them (per bucket the larger of the client and server counts), and the
// first and last moments of the cells.
func (st *state) add(dc decision, cells []baseline.Cell) (n uint64, first, last time.Time) {
	d := dc.d
	f := st.byEdge[d.Edge]
	if f == nil {
		f = &flowState{Edge: d.Edge}
		st.byEdge[d.Edge] = f
		st.Flows = append(st.Flows, f)
	}
	f.Target, f.Ingress, f.Policies, f.Reason = d.Target, d.Ingress, d.Policies, d.Reason
	f.Blamed = f.Blamed[:0]
	for _, b := range dc.blame {
		f.Blamed = append(f.Blamed, b.policy)
	}
	st.touched = true
	before := f.count()
	var lo, hi int64
	for i, c := range cells {
		fm, lm := c.Start*1000+int64(c.FirstMS), c.Start*1000+int64(c.LastMS)
		if i == 0 || fm < lo {
			lo = fm
		}
		if i == 0 || lm > hi {
			hi = lm
		}
		f.addCell(c.Start, c.Client, c.Server, fm, lm)
	}
	return f.count() - before, time.UnixMilli(lo).UTC(), time.UnixMilli(hi).UTC()
}

func (f *flowState) addCell(start int64, client, server uint64, first, last int64) {
	i, found := slices.BinarySearchFunc(f.Cells, start, func(c cell, s int64) int {
		switch {
		case c.Start < s:
			return -1
		case c.Start > s:
			return 1
		}
		return 0
	})
	if !found {
		f.Cells = slices.Insert(f.Cells, i, cell{Start: start, First: first, Last: last})
	}
	c := &f.Cells[i]
	c.Client, c.Server = flow.AddCounts(c.Client, client), flow.AddCounts(c.Server, server)
	c.First, c.Last = min(c.First, first), max(c.Last, last)
}

// count is the flow's connections as a window counts them.
func (f *flowState) count() uint64 {
	var n uint64
	for _, c := range f.Cells {
		n = flow.AddCounts(n, max(c.Client, c.Server))
	}
	return n
}
