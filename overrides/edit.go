package overrides

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/flowpol/flowpol/topology"
)

// Edits are what a review changes in an overrides file: observed edges to
// exclude or to allow again, rules to add, selectors to choose. Everything
// else in the file is kept.
type Edits struct {
	// Exclude are observed edges to exclude, each by an entry naming
	// exactly it (its two ends and its port), unless one already does.
	Exclude []topology.Edge
	// Include are observed edges to allow again: the entries naming
	// exactly them are removed. An edge that a broader entry excludes
	// stays excluded (see Set.ExactExclusion).
	Include []topology.Edge
	// Allow are rules to add, unless the file has the same one.
	Allow []AllowEdit
	// Selectors set the labels a workload's pods are selected by.
	Selectors map[topology.WorkloadRef]map[string]string
}

// AllowEdit is a rule to add, as the file writes it.
type AllowEdit struct {
	Workload topology.WorkloadRef `json:"workload"`
	Ingress  bool                 `json:"ingress"`
	// Peer is a workload (ns/Kind/name), a namespace, or an address or
	// CIDR; Ports are "443/TCP" or "8000-8100/TCP", none for every port.
	Peer  string   `json:"peer"`
	Ports []string `json:"ports,omitempty"`
}

// ErrUnnamed is an end no override can name exactly: the API server,
// which has no address of its own in a window.
var ErrUnnamed = errors.New("no override can name this end")

// EndPeer is the peer text that names exactly an end: a workload's
// reference, or the address of a host, an external or an unresolved end.
func EndPeer(e topology.End) (string, error) {
	switch {
	case e.Kind == topology.KindWorkload:
		return e.Workload.String(), nil
	case e.Addr.IsValid():
		return e.Addr.String(), nil
	}
	return "", fmt.Errorf("%s: %w", e, ErrUnnamed)
}

// ExactExclusion returns the entry that excludes exactly the edge (its
// two ends by name and its one port), when the file has one.
func (s *Set) ExactExclusion(e topology.Edge) (Exclude, bool) {
	for _, x := range s.Exclude {
		if x.names(e) {
			return x, true
		}
	}
	return Exclude{}, false
}

// names reports whether the exclusion names exactly the edge.
func (x Exclude) names(e topology.Edge) bool {
	return x.From != nil && x.To != nil && x.From.namesExactly(e.Src) && x.To.namesExactly(e.Dst) &&
		len(x.Ports) == 1 && x.Ports[0] == Ports{From: e.Port, To: e.Port, Proto: e.Proto}
}

func (p *Peer) namesExactly(e topology.End) bool {
	switch {
	case p.Workload != nil:
		return e.Kind == topology.KindWorkload && *p.Workload == e.Workload
	case p.Namespace != "":
		return false
	}
	return e.Addr.IsValid() && p.Prefix == netip.PrefixFrom(e.Addr, e.Addr.BitLen())
}

// Rewrite applies edits to an overrides file's content (empty for a new
// file) and returns the new content, checked by parsing it as Load does.
// What the edits do not touch is kept, comments included where the YAML
// library keeps them (it may move or drop a comment beside a removed
// entry); the layout is re-indented by two spaces.
func Rewrite(data []byte, name string, ed Edits) ([]byte, error) {
	if _, err := Parse(bytes.NewReader(data), name); err != nil {
		return nil, err
	}
	doc, err := document(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	root := doc.Content[0]
	if err := editExcludes(root, ed); err != nil {
		return nil, err
	}
	if err := editAllows(root, ed.Allow); err != nil {
		return nil, err
	}
	editSelectors(root, ed.Selectors)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	out := buf.Bytes()
	if len(root.Content) == 0 && root.HeadComment == "" {
		out = nil // nothing left to say
	}
	if _, err := Parse(bytes.NewReader(out), name); err != nil {
		return nil, fmt.Errorf("the edited overrides do not read back: %w", err)
	}
	return out, nil
}

// document is the file's YAML tree, a document holding a mapping.
func document(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if doc.Kind == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null" {
		head := ""
		if len(doc.Content) > 0 {
			head = doc.Content[0].HeadComment
		}
		doc.Content = []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map", HeadComment: head}}
	}
	if doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("not a mapping of overrides")
	}
	return &doc, nil
}

// section returns the value of key in the mapping, adding it (of kind)
// when it is missing or null.
func section(m *yaml.Node, key string, kind yaml.Kind) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v := m.Content[i+1]
			if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
				v.Kind, v.Tag, v.Value = kind, "", ""
			}
			return v
		}
	}
	v := &yaml.Node{Kind: kind}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, v)
	return v
}

// dropEmpty removes key from the mapping when its value is empty.
func dropEmpty(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key && len(m.Content[i+1].Content) == 0 && m.Content[i+1].Kind != yaml.ScalarNode {
			m.Content = slices.Delete(m.Content, i, i+2)
			return
		}
	}
}

func editExcludes(root *yaml.Node, ed Edits) error {
	if len(ed.Exclude) == 0 && len(ed.Include) == 0 {
		return nil
	}
	seq := section(root, "exclude", yaml.SequenceNode)
	kept := seq.Content[:0]
	for _, n := range seq.Content {
		x, err := entryExclusion(n)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(ed.Include, x.names) {
			kept = append(kept, n)
		}
	}
	seq.Content = kept
	for _, e := range ed.Exclude {
		n, err := exclusionNode(e)
		if err != nil {
			return err
		}
		x, err := entryExclusion(n)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(seq.Content, func(o *yaml.Node) bool { y, err := entryExclusion(o); return err == nil && y.names(e) }) && x.names(e) {
			seq.Content = append(seq.Content, n)
		}
	}
	dropEmpty(root, "exclude")
	return nil
}

// entryExclusion reads one exclude entry of the tree.
func entryExclusion(n *yaml.Node) (Exclude, error) {
	var e excludeYAML
	if err := n.Decode(&e); err != nil {
		return Exclude{}, err
	}
	return e.build()
}

// exclusionNode is the entry that excludes exactly one edge.
func exclusionNode(e topology.Edge) (*yaml.Node, error) {
	from, err := EndPeer(e.Src)
	if err != nil {
		return nil, err
	}
	to, err := EndPeer(e.Dst)
	if err != nil {
		return nil, err
	}
	port := Ports{From: e.Port, To: e.Port, Proto: e.Proto}.String()
	return mapping("from", scalar(from), "to", scalar(to), "ports", flowSeq(port)), nil
}

func editAllows(root *yaml.Node, adds []AllowEdit) error {
	if len(adds) == 0 {
		return nil
	}
	seq := section(root, "allow", yaml.SequenceNode)
	for _, a := range adds {
		key := "egressTo"
		if a.Ingress {
			key = "ingressFrom"
		}
		fields := []any{"workload", scalar(a.Workload.String()), key, scalar(a.Peer)}
		if len(a.Ports) > 0 {
			fields = append(fields, "ports", flowSeq(a.Ports...))
		}
		n := mapping(fields...)
		var y allowYAML
		if err := n.Decode(&y); err != nil {
			return err
		}
		added, err := y.build()
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(seq.Content, func(o *yaml.Node) bool { return sameAllow(o, added) }) {
			seq.Content = append(seq.Content, n)
		}
	}
	return nil
}

func sameAllow(n *yaml.Node, a Allow) bool {
	var y allowYAML
	if n.Decode(&y) != nil {
		return false
	}
	b, err := y.build()
	return err == nil && a.Workload == b.Workload && a.Ingress == b.Ingress && a.Peer.Text == b.Peer.Text && slices.Equal(a.Ports, b.Ports)
}

func editSelectors(root *yaml.Node, sel map[topology.WorkloadRef]map[string]string) {
	if len(sel) == 0 {
		return
	}
	m := section(root, "selectors", yaml.MappingNode)
	refs := make([]topology.WorkloadRef, 0, len(sel))
	for ref := range sel {
		refs = append(refs, ref)
	}
	slices.SortFunc(refs, topology.WorkloadRef.Compare)
	for _, ref := range refs {
		labels := sel[ref]
		keys := make([]string, 0, len(labels))
		for k := range labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		v := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
		for _, k := range keys {
			v.Content = append(v.Content, scalar(k), scalar(labels[k]))
		}
		setKey(m, ref.String(), v)
	}
}

// setKey sets key's value in the mapping, in place when it is there.
func setKey(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v.LineComment = m.Content[i+1].LineComment
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, scalar(key), v)
}

func scalar(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: s}
	if strings.ContainsAny(s, ":#{}[],&*!|>'\"%@`") {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

func flowSeq(items ...string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, s := range items {
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: s, Style: yaml.DoubleQuotedStyle})
	}
	return n
}

// mapping builds a block mapping from key, node pairs.
func mapping(kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i+1 < len(kv); i += 2 {
		n.Content = append(n.Content, scalar(kv[i].(string)), kv[i+1].(*yaml.Node))
	}
	return n
}
