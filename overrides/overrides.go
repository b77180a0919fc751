package overrides

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/internal/yamlline"
	"github.com/flowpol/flowpol/topology"
)

// MaxBytes is the largest overrides file read.
const MaxBytes = 16 << 20

// Set is an overrides file.
type Set struct {
	File string
	// SkipNamespaces replaces the default (kube-system) when the file sets
	// it; nil when it does not.
	SkipNamespaces []string
	SkipWorkloads  []WorkloadEntry
	Exclude        []Exclude
	Allow          []Allow
	Widen          []PrefixEntry
	// CollapseAbove widens a workload's external peers, in one direction,
	// to their /24 (IPv4) or /64 (IPv6) when it has more than this many;
	// zero never does.
	CollapseAbove int
	Selectors     []Selector
}

// WorkloadEntry is a workload named on a line.
type WorkloadEntry struct {
	Ref  topology.WorkloadRef
	Line int
}

// PrefixEntry is an address block named on a line.
type PrefixEntry struct {
	Prefix netip.Prefix
	Line   int
}

// Peer is a workload ("ns/Kind/name"), a namespace ("ns"), or an address
// block ("10.0.0.0/8", or one address).
type Peer struct {
	Text      string
	Workload  *topology.WorkloadRef
	Namespace string
	Prefix    netip.Prefix
}

// Ports are a port range with its protocol: "443/TCP", "8000-8100/TCP".
type Ports struct {
	From, To uint16
	Proto    flow.Proto
}

// Exclude drops observed edges from a peer, to a peer, on ports; an empty
// field matches anything.
type Exclude struct {
	From, To *Peer
	Ports    []Ports
	Line     int
}

// Allow adds a rule a workload was not seen to need: ingress from a peer,
// or egress to one, on ports (all ports when none).
type Allow struct {
	Workload topology.WorkloadRef
	Ingress  bool
	Peer     Peer
	Ports    []Ports
	Line     int
}

// Selector gives the labels to select a workload's pods by.
type Selector struct {
	Workload topology.WorkloadRef
	Labels   map[string]string
	Line     int
}

// file is the YAML layout.
type file struct {
	SkipNamespaces *[]string            `yaml:"skipNamespaces"`
	SkipWorkloads  []yaml.Node          `yaml:"skipWorkloads"`
	Exclude        []excludeYAML        `yaml:"exclude"`
	Allow          []allowYAML          `yaml:"allow"`
	Externals      externalsYAML        `yaml:"externals"`
	Selectors      map[string]yaml.Node `yaml:"selectors"`
}

type excludeYAML struct {
	From  string   `yaml:"from"`
	To    string   `yaml:"to"`
	Ports []string `yaml:"ports"`
	node  *yaml.Node
}

type allowYAML struct {
	Workload    string   `yaml:"workload"`
	IngressFrom string   `yaml:"ingressFrom"`
	EgressTo    string   `yaml:"egressTo"`
	Ports       []string `yaml:"ports"`
	node        *yaml.Node
}

type externalsYAML struct {
	Widen         []yaml.Node `yaml:"widen"`
	CollapseAbove int         `yaml:"collapseAbove"`
}

// UnmarshalYAML keeps the entry's node, for its line.
func (e *excludeYAML) UnmarshalYAML(n *yaml.Node) error {
	type plain excludeYAML
	if err := decodeStrict(n, (*plain)(e)); err != nil {
		return err
	}
	e.node = n
	return nil
}

// UnmarshalYAML keeps the entry's node, for its line.
func (a *allowYAML) UnmarshalYAML(n *yaml.Node) error {
	type plain allowYAML
	if err := decodeStrict(n, (*plain)(a)); err != nil {
		return err
	}
	a.node = n
	return nil
}

// decodeStrict decodes a node, refusing unknown keys (a node's Decode does
// not know the decoder's KnownFields).
func decodeStrict(n *yaml.Node, v any) error {
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return &lineError{line: n.Line, err: stripLine(err)}
	}
	return nil
}

// lineError places an error on a line of the file.
type lineError struct {
	line int
	err  error
}

func (e *lineError) Error() string { return e.err.Error() }

// stripLine drops the line yaml puts in an error about a re-encoded node:
// it counts from the node, not the file.
func stripLine(err error) error {
	s := err.Error()
	s = strings.TrimPrefix(s, "yaml: unmarshal errors:\n  ")
	if i := strings.Index(s, ": "); strings.HasPrefix(s, "line ") && i > 0 {
		s = s[i+2:]
	}
	return errors.New(s)
}

// Load reads an overrides file.
func Load(path string) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close() //nolint:errcheck // read only
	return Parse(f, path)
}

// Parse reads overrides; name is used in errors.
func Parse(r io.Reader, name string) (*Set, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > MaxBytes {
		return nil, fmt.Errorf("%s: %w", name, ErrTooLarge)
	}
	var doc file
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		var le *lineError
		if errors.As(err, &le) {
			return nil, fmt.Errorf("%s:%d: %w", name, le.line, le.err)
		}
		return nil, placeYAMLError(name, data, err)
	}
	s, err := doc.build(name)
	if err != nil {
		var le *lineError
		if errors.As(err, &le) {
			return nil, fmt.Errorf("%s:%d: %w", name, le.line, le.err)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

// placeYAMLError puts the line at fault in front, as the other errors have
// it: "f.yaml:4: yaml: did not find expected key". A syntax error is placed
// on the line that breaks the file, not where its enclosing block starts.
func placeYAMLError(name string, data []byte, err error) error {
	if te := (*yaml.TypeError)(nil); errors.As(err, &te) && len(te.Errors) == 1 {
		if n, msg, ok := cutLine(te.Errors[0]); ok {
			return fmt.Errorf("%s:%d: %s", name, n, msg)
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	n, msg, ok := cutLine(strings.TrimPrefix(err.Error(), "yaml: "))
	if !ok {
		return fmt.Errorf("%s: %w", name, err)
	}
	fails := func(b []byte) bool {
		var node yaml.Node
		err := yaml.Unmarshal(b, &node)
		_, m, _ := cutLine(strings.TrimPrefix(fmt.Sprint(err), "yaml: "))
		return err != nil && m == msg
	}
	if at := yamlline.Find(data, fails); at > 0 {
		n = at
	}
	return fmt.Errorf("%s:%d: %s", name, n, msg)
}

// cutLine splits "line 3: msg".
func cutLine(s string) (int, string, bool) {
	num, msg, ok := strings.Cut(strings.TrimPrefix(s, "line "), ": ")
	n, err := strconv.Atoi(num)
	return n, msg, ok && err == nil && strings.HasPrefix(s, "line ")
}

func (d *file) build(name string) (*Set, error) {
	s := &Set{File: name, CollapseAbove: d.Externals.CollapseAbove}
	if d.SkipNamespaces != nil {
		s.SkipNamespaces = append([]string{}, *d.SkipNamespaces...)
	}
	for _, n := range d.SkipWorkloads {
		ref, err := workloadRef(n.Value)
		if err != nil {
			return nil, &lineError{n.Line, err}
		}
		s.SkipWorkloads = append(s.SkipWorkloads, WorkloadEntry{Ref: ref, Line: n.Line})
	}
	for _, e := range d.Exclude {
		ex, err := e.build()
		if err != nil {
			return nil, &lineError{e.node.Line, err}
		}
		s.Exclude = append(s.Exclude, ex)
	}
	for _, a := range d.Allow {
		al, err := a.build()
		if err != nil {
			return nil, &lineError{a.node.Line, err}
		}
		s.Allow = append(s.Allow, al)
	}
	for _, n := range d.Externals.Widen {
		p, err := prefix(n.Value)
		if err != nil {
			return nil, &lineError{n.Line, fmt.Errorf("widen: %w", err)}
		}
		s.Widen = append(s.Widen, PrefixEntry{Prefix: p, Line: n.Line})
	}
	if d.Externals.CollapseAbove < 0 {
		return nil, errors.New("externals.collapseAbove: must not be negative")
	}
	return s, s.buildSelectors(d.Selectors)
}

func (s *Set) buildSelectors(m map[string]yaml.Node) error {
	for key, n := range m {
		ref, err := workloadRef(key)
		if err != nil {
			return &lineError{n.Line, fmt.Errorf("selectors: %w", err)}
		}
		var labels map[string]string
		if err := n.Decode(&labels); err != nil || len(labels) == 0 {
			return &lineError{n.Line, fmt.Errorf("selectors: %s: want a map of at least one label", key)}
		}
		for k, v := range labels {
			if errs := validation.IsQualifiedName(k); len(errs) > 0 {
				return &lineError{n.Line, fmt.Errorf("selectors: %s: label key %q: %s", key, k, strings.Join(errs, "; "))}
			}
			if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
				return &lineError{n.Line, fmt.Errorf("selectors: %s: label %s value %q: %s", key, k, v, strings.Join(errs, "; "))}
			}
		}
		s.Selectors = append(s.Selectors, Selector{Workload: ref, Labels: labels, Line: n.Line})
	}
	return nil
}

func (e *excludeYAML) build() (Exclude, error) {
	out := Exclude{Line: e.node.Line}
	if e.From == "" && e.To == "" {
		return out, errors.New("exclude: needs from, to, or both")
	}
	for _, side := range []struct {
		text string
		dst  **Peer
	}{{e.From, &out.From}, {e.To, &out.To}} {
		if side.text == "" {
			continue
		}
		p, err := ParsePeer(side.text)
		if err != nil {
			return out, fmt.Errorf("exclude: %w", err)
		}
		*side.dst = &p
	}
	var err error
	out.Ports, err = portsOf(e.Ports)
	return out, err
}

func (a *allowYAML) build() (Allow, error) {
	out := Allow{Line: a.node.Line}
	ref, err := workloadRef(a.Workload)
	if err != nil {
		return out, fmt.Errorf("allow: workload: %w", err)
	}
	out.Workload = ref
	text := a.EgressTo
	if (a.IngressFrom == "") == (a.EgressTo == "") {
		return out, errors.New("allow: needs one of ingressFrom or egressTo")
	}
	if a.IngressFrom != "" {
		out.Ingress, text = true, a.IngressFrom
	}
	if out.Peer, err = ParsePeer(text); err != nil {
		return out, fmt.Errorf("allow: %w", err)
	}
	out.Ports, err = portsOf(a.Ports)
	return out, err
}

// ParsePeer reads a peer: "ns/Kind/name", "ns", or an address or CIDR.
func ParsePeer(s string) (Peer, error) {
	p := Peer{Text: s}
	if pre, err := prefix(s); err == nil {
		p.Prefix = pre
		return p, nil
	}
	if addr, _, ok := strings.Cut(s, "/"); ok && looksLikeAddress(addr) {
		return p, fmt.Errorf("peer %q: not a CIDR (address/bits): %w", s, prefixError(s))
	}
	if strings.Contains(s, "/") {
		ref, err := workloadRef(s)
		if err != nil {
			return p, err
		}
		p.Workload = &ref
		return p, nil
	}
	if errs := validation.IsDNS1123Label(s); len(errs) > 0 {
		return p, fmt.Errorf("peer %q: not a workload (ns/Kind/name), a namespace or a CIDR", s)
	}
	p.Namespace = s
	return p, nil
}

func workloadRef(s string) (topology.WorkloadRef, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return topology.WorkloadRef{}, fmt.Errorf("workload %q: want namespace/Kind/name", s)
	}
	return topology.WorkloadRef{Namespace: parts[0], Kind: parts[1], Name: parts[2]}, nil
}

// prefix reads a CIDR, or one address as its /32 or /128.
func prefix(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, fmt.Errorf("%q is not a CIDR", s)
	}
	return p.Masked(), nil
}

// looksLikeAddress reports whether s is written as an IP address is: hex
// digits with dots or colons. No namespace has a dot or a colon.
func looksLikeAddress(s string) bool {
	return strings.ContainsAny(s, ".:") && strings.Trim(s, "0123456789abcdefABCDEF.:") == ""
}

// prefixError says what is wrong with an address block, without the
// parser's echo of it.
func prefixError(s string) error {
	_, err := netip.ParsePrefix(s)
	if err == nil {
		return errors.New("not an address block")
	}
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, "): "); ok {
		msg = rest
	}
	return errors.New(msg)
}

func portsOf(ss []string) ([]Ports, error) {
	var out []Ports
	for _, s := range ss {
		p, err := ParsePorts(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// ParsePorts reads "443/TCP" or "8000-8100/UDP"; the protocol defaults to
// TCP.
func ParsePorts(s string) (Ports, error) {
	rng, protoText, hasProto := strings.Cut(s, "/")
	out := Ports{Proto: flow.TCP}
	if hasProto {
		proto, err := flow.ParseProto(protoText)
		if err != nil {
			return out, fmt.Errorf("ports %q: %w", s, err)
		}
		out.Proto = proto
	}
	lo, hi, isRange := strings.Cut(rng, "-")
	from, err1 := strconv.ParseUint(lo, 10, 16)
	to := from
	var err2 error
	if isRange {
		to, err2 = strconv.ParseUint(hi, 10, 16)
	}
	if err1 != nil || err2 != nil || from == 0 || to < from {
		return out, fmt.Errorf("ports %q: want PORT or FROM-TO (1 to 65535), then /TCP, /UDP or /SCTP", s)
	}
	out.From, out.To = uint16(from), uint16(to)
	return out, nil
}

// Contains reports whether the ports admit port and proto.
func (p Ports) Contains(port uint16, proto flow.Proto) bool {
	return p.Proto == proto && p.From <= port && port <= p.To
}

func (p Ports) String() string {
	if p.From == p.To {
		return fmt.Sprintf("%d/%s", p.From, p.Proto)
	}
	return fmt.Sprintf("%d-%d/%s", p.From, p.To, p.Proto)
}

// Matches reports whether the peer names an end: the workload, a workload
// in the namespace, or an address in the block.
func (p *Peer) Matches(e topology.End) bool {
	switch {
	case p.Workload != nil:
		return e.Kind == topology.KindWorkload && e.Workload == *p.Workload
	case p.Namespace != "":
		return e.Kind == topology.KindWorkload && e.Workload.Namespace == p.Namespace
	}
	return e.Addr.IsValid() && p.Prefix.Contains(e.Addr)
}

// Excludes returns the first exclusion that matches an edge.
func (s *Set) Excludes(e topology.EdgeStats) (Exclude, bool) {
	for _, x := range s.Exclude {
		if (x.From == nil || x.From.Matches(e.Src)) && (x.To == nil || x.To.Matches(e.Dst)) && portsMatch(x.Ports, e.Port, e.Proto) {
			return x, true
		}
	}
	return Exclude{}, false
}

func portsMatch(ps []Ports, port uint16, proto flow.Proto) bool {
	if len(ps) == 0 {
		return true
	}
	for _, p := range ps {
		if p.Contains(port, proto) {
			return true
		}
	}
	return false
}
