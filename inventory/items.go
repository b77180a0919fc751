package inventory

import (
	"bytes"
	"fmt"
	"runtime"
)

// itemStream decodes a document's items as they are read, into an
// Inventory of their own: whether they are a List's items, and so kept,
// is known only at the document's end (kubectl writes "kind: List" after
// them). The first item's error waits for that too. Items are converted
// and decoded on every core (in turn on one), a bounded number at a time,
// and taken in their order.
type itemStream struct {
	in    *input
	seen  bool // the document has an items sequence being streamed
	pend  *Inventory
	n     int
	queue []chan decoded // the items being decoded, oldest first
	err   error          // the first item's error
	// syntax is the first syntax error of any item, which fails any
	// document, List or not.
	syntax error
}

// decoded is one item, decoded on its own.
type decoded struct {
	part   *Inventory
	err    error
	syntax bool
}

func newItemStream(in *input) *itemStream {
	return &itemStream{in: in, pend: &Inventory{Skipped: map[string]int{}}}
}

// add queues the item that starts on line: its text, JSON or (with yaml)
// a YAML sequence of one entry, dash and all, which add copies, or the
// error reading it.
func (s *itemStream) add(line int, body []byte, yaml bool, err error) {
	i := s.n
	s.n++
	if s.syntax != nil {
		return
	}
	procs := runtime.GOMAXPROCS(0)
	if len(s.queue) >= 4*procs {
		s.take()
	}
	c := make(chan decoded, 1)
	s.queue = append(s.queue, c)
	if procs == 1 {
		c <- s.decode(i, line, body, yaml, err)
		return
	}
	body = bytes.Clone(body)
	go func() { c <- s.decode(i, line, body, yaml, err) }()
}

// decode converts and decodes the items[i], which starts on line.
func (s *itemStream) decode(i, line int, body []byte, yaml bool, err error) decoded {
	js := body
	if err == nil && yaml {
		js, err = entryJSON(document{first: line, line: line, body: body}, s.in.name)
	}
	if err != nil {
		return decoded{err: err, syntax: true}
	}
	part := &Inventory{Skipped: map[string]int{}}
	if label, err := part.addItem(js); err != nil {
		return decoded{err: &LineError{File: s.in.name, Line: line, Item: fmt.Sprintf("items[%d]", i), Object: label, Err: err}}
	}
	return decoded{part: part}
}

// entryJSON converts a sequence of one entry to the entry's JSON. The
// entry is parsed as a sequence, as it is in its document: alone, the
// parser would take what it refuses there, such as text after a flow
// mapping.
func entryJSON(d document, name string) ([]byte, error) {
	js, err := d.toJSON(name)
	if err != nil {
		return nil, err
	}
	inner, ok := bytes.CutPrefix(js, []byte("["))
	if inner, ok2 := bytes.CutSuffix(inner, []byte("]")); ok && ok2 {
		return inner, nil
	}
	return nil, &LineError{File: name, Line: d.line, Err: fmt.Errorf("yaml: a List item that is not one entry of its sequence")}
}

// take waits for the oldest item queued and keeps it, or its error when
// it is the first, or the first syntax error.
func (s *itemStream) take() {
	d := <-s.queue[0]
	s.queue = s.queue[1:]
	if d.syntax && s.syntax == nil {
		s.syntax = d.err
	}
	switch {
	case s.err != nil:
	case d.err != nil:
		s.err = d.err
	default:
		s.pend.merge(d.part)
	}
}

// finish adds the document, whose header (all but the streamed items) is
// js, starting on line, size bytes in all.
func (s *itemStream) finish(inv *Inventory, line int, js []byte, size int) error {
	for len(s.queue) > 0 {
		s.take()
	}
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
	if s.syntax != nil {
		return s.syntax
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
