package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// jsonStream reads JSON values one after another, as kubectl -o json
// writes them. A top-level object's "items" array is read one element at
// a time; every other value is read whole, bounded in size.
type jsonStream struct {
	in  *input
	inv *Inventory
	buf []byte
}

// errJSONEnd is the end of the input inside a value.
var errJSONEnd = errors.New("invalid JSON: unexpected end of input")

func (s *jsonStream) run() error {
	for {
		c, err := s.skipSpace()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if c == '{' {
			err = s.object()
		} else {
			err = s.document()
		}
		if err != nil {
			return err
		}
	}
}

// document reads a value that is not an object as a document of its own.
func (s *jsonStream) document() error {
	line := s.in.line
	raw, err := s.value()
	if err != nil {
		return err
	}
	items := newItemStream(s.in)
	return items.finish(s.inv, line, raw, len(raw))
}

// object reads a top-level object, streaming its items.
func (s *jsonStream) object() error {
	line, start := s.in.line, s.in.n
	items := newItemStream(s.in)
	if err := s.next(); err != nil { // '{'
		return err
	}
	header := []byte{'{'}
	for first := true; ; first = false {
		c, err := s.skipSpace()
		if err != nil {
			return s.endErr(err)
		}
		if c == '}' {
			if err := s.next(); err != nil {
				return err
			}
			break
		}
		if !first {
			if c != ',' {
				return s.syntax("after object member", c)
			}
			if err := s.next(); err != nil {
				return err
			}
		}
		if header, err = s.member(header, items); err != nil {
			return err
		}
	}
	header = append(header, '}')
	return items.finish(s.inv, line, header, int(s.in.n-start))
}

// member reads `"key": value`, streaming the items array, and appends the
// rest to header.
func (s *jsonStream) member(header []byte, items *itemStream) ([]byte, error) {
	if c, err := s.skipSpace(); err != nil || c != '"' {
		return header, s.syntaxOrEnd(err, "looking for an object key", c)
	}
	key, err := s.value()
	if err != nil {
		return header, err
	}
	var name string
	if err := json.Unmarshal(key, &name); err != nil {
		return header, s.in.fail(s.in.line, fmt.Errorf("invalid JSON: %w", err))
	}
	if c, err := s.skipSpace(); err != nil || c != ':' {
		return header, s.syntaxOrEnd(err, "after object key", c)
	}
	if err := s.next(); err != nil {
		return header, err
	}
	c, err := s.skipSpace()
	if err != nil {
		return header, s.endErr(err)
	}
	if name == "items" && c == '[' && !items.seen {
		items.seen = true
		return header, s.items(items)
	}
	if len(header) > 1 {
		header = append(header, ',')
	}
	header = append(header, key...)
	header = append(header, ':')
	val, err := s.value()
	if err != nil {
		return header, err
	}
	if len(header)+len(val) > s.in.opts.MaxObjectBytes {
		return header, s.in.objectTooLarge(s.in.line)
	}
	return append(header, val...), nil
}

// items reads an array, each element an item.
func (s *jsonStream) items(items *itemStream) error {
	if err := s.next(); err != nil { // '['
		return err
	}
	for first := true; ; first = false {
		c, err := s.skipSpace()
		if err != nil {
			return s.endErr(err)
		}
		if c == ']' {
			return s.next()
		}
		if !first {
			if c != ',' {
				return s.syntax("after array element", c)
			}
			if err := s.next(); err != nil {
				return err
			}
			if _, err := s.skipSpace(); err != nil {
				return s.endErr(err)
			}
		}
		line := s.in.line
		raw, err := s.value()
		if err != nil {
			return err
		}
		items.add(line, raw, false, nil)
	}
}

func (s *jsonStream) peek() (byte, error) {
	b, err := s.in.r.Peek(1)
	if len(b) == 0 {
		if err == nil || err == io.EOF {
			return 0, io.EOF
		}
		return 0, s.in.readErr(err)
	}
	return b[0], nil
}

// next reads the byte peeked at; it fails only past the size bound.
func (s *jsonStream) next() error {
	_, err := s.in.readByte()
	return err
}

// skipSpace skips white space and returns the next byte, unread.
func (s *jsonStream) skipSpace() (byte, error) {
	for {
		c, err := s.peek()
		if err != nil || !isSpace(c) {
			return c, err
		}
		if _, err := s.in.readByte(); err != nil {
			return 0, err
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// value reads one whole value, valid until the next call.
func (s *jsonStream) value() ([]byte, error) {
	line := s.in.line
	s.buf = s.buf[:0]
	c, err := s.peek()
	if err != nil {
		return nil, s.endErr(err)
	}
	switch c {
	case '{', '[':
		err = s.nested(line)
	case '"':
		_, err = s.take(line)
		if err == nil {
			err = s.rest(line, 0, true)
		}
	default:
		err = s.scalar(line)
	}
	if err != nil {
		return nil, err
	}
	if !json.Valid(s.buf) {
		return nil, s.invalid(line)
	}
	return s.buf, nil
}

// take reads a byte into the value.
func (s *jsonStream) take(line int) (byte, error) {
	c, err := s.in.readByte()
	if err != nil {
		return 0, s.endErr(err)
	}
	if len(s.buf) >= s.in.opts.MaxObjectBytes {
		return 0, s.in.objectTooLarge(line)
	}
	s.buf = append(s.buf, c)
	return c, nil
}

// nested reads an object or array, to its closing bracket.
func (s *jsonStream) nested(line int) error {
	return s.rest(line, 0, false)
}

// rest reads on until depth returns to zero outside a string, or, in a
// string at depth zero, to its end.
func (s *jsonStream) rest(line, depth int, inString bool) error {
	escaped := false
	for {
		c, err := s.take(line)
		if err != nil {
			return err
		}
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case inString && c == '"':
			inString = false
			if depth == 0 {
				return nil
			}
		case inString:
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth--; depth <= 0 {
				return nil
			}
		}
	}
}

// scalar reads a number, true, false or null, to the next delimiter.
func (s *jsonStream) scalar(line int) error {
	for {
		c, err := s.peek()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if isSpace(c) || c == ',' || c == '}' || c == ']' || c == '{' || c == '[' || c == '"' || c == ':' {
			return nil
		}
		if _, err := s.take(line); err != nil {
			return err
		}
	}
}

// invalid places the syntax error in the value read from line.
func (s *jsonStream) invalid(line int) error {
	var v any
	err := json.Unmarshal(s.buf, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off := min(max(se.Offset-1, 0), int64(len(s.buf)))
		line += bytes.Count(s.buf[:off], []byte("\n"))
		return s.in.fail(line, fmt.Errorf("invalid JSON: %w", err))
	}
	if err == nil {
		err = errors.New("not one value")
	}
	return s.in.fail(line, fmt.Errorf("invalid JSON: %w", err))
}

func (s *jsonStream) endErr(err error) error {
	if errors.Is(err, io.EOF) {
		return s.in.fail(s.in.line, errJSONEnd)
	}
	return err
}

func (s *jsonStream) syntax(context string, c byte) error {
	return s.in.fail(s.in.line, fmt.Errorf("invalid JSON: invalid character %q %s", c, context))
}

func (s *jsonStream) syntaxOrEnd(err error, context string, c byte) error {
	if err != nil {
		return s.endErr(err)
	}
	return s.syntax(context, c)
}
