package inventory

import (
	"bytes"
	"fmt"
)

// itemStream decodes a document's items as they are read, into an
// Inventory of their own: whether they are a List's items, and so kept,
// is known only at the document's end (kubectl writes "kind: List" after
// them). The first item's error waits for that too.
type itemStream struct {
	in     *input
	seen   bool // the document has an items sequence being streamed
	pend   *Inventory
	n      int
	err    error
	syntax bool // err is a syntax error, which fails any document
}

func newItemStream(in *input) *itemStream {
	return &itemStream{in: in, pend: &Inventory{Skipped: map[string]int{}}}
}

// add decodes the item that starts on line: its JSON, or the error
// converting it.
func (s *itemStream) add(line int, js []byte, err error) {
	i := s.n
	s.n++
	switch {
	case s.err != nil:
	case err != nil:
		s.err, s.syntax = err, true
	default:
		if label, err := s.pend.addItem(js); err != nil {
			s.err = &LineError{File: s.in.name, Line: line, Item: fmt.Sprintf("items[%d]", i), Object: label, Err: err}
		}
	}
}

// finish adds the document, whose header (all but the streamed items) is
// js, starting on line, size bytes in all.
func (s *itemStream) finish(inv *Inventory, line int, js []byte, size int) error {
	if s.n == 0 && bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
		return nil // empty, or only comments
	}
	obj, err := readObject(js)
	if err != nil {
		return &LineError{File: s.in.name, Line: line, Err: err}
	}
	if obj.Kind == "List" {
		if s.err != nil {
			return s.err
		}
		inv.merge(s.pend)
		return inv.addList(s.in.name, line, js)
	}
	if s.syntax {
		return s.err
	}
	if size > s.in.opts.MaxObjectBytes {
		return s.in.objectTooLarge(line)
	}
	if err := inv.add(obj, js); err != nil {
		return &LineError{File: s.in.name, Line: line, Object: obj.label(), Err: err}
	}
	return nil
}

// merge appends p's objects and adds its skipped counts.
func (inv *Inventory) merge(p *Inventory) {
	inv.Namespaces = appendAll(inv.Namespaces, p.Namespaces)
	inv.Nodes = appendAll(inv.Nodes, p.Nodes)
	inv.Pods = appendAll(inv.Pods, p.Pods)
	inv.Services = appendAll(inv.Services, p.Services)
	inv.EndpointSlices = appendAll(inv.EndpointSlices, p.EndpointSlices)
	inv.ReplicaSets = appendAll(inv.ReplicaSets, p.ReplicaSets)
	inv.Deployments = appendAll(inv.Deployments, p.Deployments)
	inv.StatefulSets = appendAll(inv.StatefulSets, p.StatefulSets)
	inv.DaemonSets = appendAll(inv.DaemonSets, p.DaemonSets)
	inv.Jobs = appendAll(inv.Jobs, p.Jobs)
	inv.CronJobs = appendAll(inv.CronJobs, p.CronJobs)
	inv.NetworkPolicies = appendAll(inv.NetworkPolicies, p.NetworkPolicies)
	for k, n := range p.Skipped {
		inv.Skipped[k] += n
	}
}

// appendAll appends src to dst, or returns src when dst is empty.
func appendAll[T any](dst, src []T) []T {
	if len(dst) == 0 {
		return src
	}
	return append(dst, src...)
}
