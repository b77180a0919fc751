package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// yamlStream reads YAML documents, split at "---" lines as kubectl splits
// them. A document whose top-level mapping starts at the first column has
// its "items:" sequence read one entry at a time: each entry is parsed and
// decoded on its own, so a List of any size costs what is kept. Other
// documents are parsed whole and are objects bounded in size.
type yamlStream struct {
	in  *input
	inv *Inventory
	doc *yamlDoc
}

func (s *yamlStream) run() error {
	s.doc = newYAMLDoc(s.in, 1)
	for {
		line, err := s.in.readLine()
		if errors.Is(err, io.EOF) {
			return s.finish()
		}
		if err != nil {
			return err
		}
		at := s.in.line - 1
		if !bytes.HasPrefix(line, []byte("---")) {
			if err := s.doc.add(line, at); err != nil {
				return err
			}
			continue
		}
		// "---#" is no marker in YAML: a comment needs a blank before it.
		if rest := bytes.TrimSpace(line[3:]); len(rest) > 0 && (rest[0] != '#' || line[3] == '#') {
			return s.in.fail(at, fmt.Errorf("invalid Yaml document separator: %s", rest))
		}
		if err := s.finish(); err != nil {
			return err
		}
		s.doc = newYAMLDoc(s.in, at+1)
	}
}

func (s *yamlStream) finish() error {
	return s.doc.finish(s.inv)
}

// yamlDoc is one document as it is read: the lines outside its items
// sequence (the header), and the items decoded so far, kept apart until
// the header says the document is a List.
type yamlDoc struct {
	in         *input
	first      int // the input line of its first line
	content    int // the input line of its first content line, 0 before it
	streamable bool
	header     []byte
	headerLine int   // the header's lines
	gaps       []gap // the items' lines, left out of the header
	bytes      int
	items      *itemStream
	inItems    bool
	indent     int // the column of the sequence's dashes; -1 before the first
	entry      []byte
	entryLine  int
	entryCol   int // the column of the entry's content; -1 before it
	badIndent  int // the line of a continuation left of entryCol, or 0
}

// errBadIndent is a line of a List item left of the item's content.
var errBadIndent = errors.New("yaml: this line is less indented than its List item")

// gap is n input lines left out of the header after its first at lines.
type gap struct{ at, n int }

func newYAMLDoc(in *input, first int) *yamlDoc {
	return &yamlDoc{in: in, first: first, items: newItemStream(in)}
}

func (d *yamlDoc) add(line []byte, at int) error {
	d.bytes += len(line)
	blank := isFiller(line)
	if !blank && d.content == 0 {
		d.content = at
		d.streamable = isLetter(line[0])
	}
	if d.inItems {
		if done, err := d.addItemLine(line, at, blank); !done || err != nil {
			return err
		}
	}
	if d.streamable && !d.items.seen && isItemsKey(line) {
		d.inItems, d.indent, d.items.seen = true, -1, true
	}
	return d.addHeader(line)
}

// addItemLine takes a line of the items sequence and reports whether the
// sequence ended before it.
func (d *yamlDoc) addItemLine(line []byte, at int, blank bool) (bool, error) {
	c := indentOf(line)
	dash := !blank && isDash(line[c:])
	switch {
	case blank && d.indent < 0:
	case blank || c > d.indent && d.indent >= 0:
		d.checkIndent(c, at, blank)
		if err := d.appendEntry(line, at); err != nil {
			return false, err
		}
	case dash && (d.indent < 0 || c == d.indent):
		if err := d.endEntry(); err != nil {
			return false, err
		}
		d.indent, d.entryLine, d.entryCol, d.badIndent = c, at, -1, 0
		content := append([]byte(nil), line...)
		content[c] = ' '
		d.checkIndent(indentOf(content), at, isFiller(content))
		if err := d.appendEntry(line, at); err != nil {
			return false, err
		}
	default:
		d.inItems = false
		return true, d.endEntry()
	}
	d.skip()
	return false, nil
}

// checkIndent notes a continuation of the entry left of its content,
// which the whole document's parser refuses and the entry's alone would not.
func (d *yamlDoc) checkIndent(c, at int, blank bool) {
	switch {
	case blank:
	case d.entryCol < 0:
		d.entryCol = c
	case c < d.entryCol && d.badIndent == 0:
		d.badIndent = at
	}
}

// skip counts an input line left out of the header.
func (d *yamlDoc) skip() {
	if n := len(d.gaps); n > 0 && d.gaps[n-1].at == d.headerLine {
		d.gaps[n-1].n++
		return
	}
	d.gaps = append(d.gaps, gap{at: d.headerLine, n: 1})
}

func (d *yamlDoc) appendEntry(line []byte, at int) error {
	if len(d.entry)+len(line) > d.in.opts.MaxObjectBytes {
		return d.in.objectTooLarge(d.entryLine)
	}
	d.entry = append(d.entry, line...)
	return nil
}

func (d *yamlDoc) endEntry() error {
	if d.indent < 0 || len(d.entry) == 0 {
		return nil
	}
	var err error
	if d.badIndent > 0 {
		err = d.in.fail(d.badIndent, errBadIndent)
	}
	d.items.add(d.entryLine, d.entry, true, err)
	d.entry = d.entry[:0]
	return nil
}

func (d *yamlDoc) addHeader(line []byte) error {
	if len(d.header)+len(line) > d.in.opts.MaxObjectBytes {
		return d.in.objectTooLarge(max(d.content, d.first))
	}
	d.header = append(d.header, line...)
	d.headerLine++
	return nil
}

// lineOf returns the input line of a line of the header, from 1.
func (d *yamlDoc) lineOf(n int) int {
	line := d.first + n - 1
	for _, g := range d.gaps {
		if g.at < n {
			line += g.n
		}
	}
	return line
}

func (d *yamlDoc) finish(inv *Inventory) error {
	if d.inItems {
		if err := d.endEntry(); err != nil {
			return err
		}
	}
	doc := document{first: d.first, line: max(d.content, d.first), body: d.header, lineOf: d.lineOf}
	js, err := doc.toJSON(d.in.name)
	if err != nil {
		return err
	}
	return d.items.finish(inv, doc.line, js, d.bytes)
}

// isFiller reports whether a line is blank or a comment.
func isFiller(line []byte) bool {
	t := bytes.TrimSpace(line)
	return len(t) == 0 || t[0] == '#'
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }

// isItemsKey reports whether the line is "items:" at the first column,
// with nothing after it but blanks or a comment.
func isItemsKey(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, []byte("items:"))
	rest = bytes.TrimSpace(rest)
	return ok && (len(rest) == 0 || rest[0] == '#')
}

func indentOf(line []byte) int {
	n := 0
	for n < len(line) && line[n] == ' ' {
		n++
	}
	return n
}

// isDash reports whether s starts a sequence entry: "-" then a blank or
// the line's end.
func isDash(s []byte) bool {
	return len(s) > 0 && s[0] == '-' && (len(s) == 1 || s[1] == ' ' || s[1] == '\n' || s[1] == '\r')
}
