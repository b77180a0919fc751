package inventory

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// document is one YAML or JSON document of the input.
type document struct {
	first int // the input line of its first line, from 1
	line  int // the input line of its first line that is not blank or a comment
	body  []byte
}

// splitter cuts the input into documents at "---" lines, as kubectl does,
// and follows which input line each document starts on.
type splitter struct {
	name   string
	data   []byte
	reader *utilyaml.YAMLReader
	off    int // byte offset of the first input line not yet returned
	line   int // the number of that line
}

func newSplitter(name string, data []byte) *splitter {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	return &splitter{name: name, data: data, reader: r, line: 1}
}

// next returns the next document, or io.EOF after the last one.
func (s *splitter) next() (document, error) {
	body, err := s.reader.Read()
	if errors.Is(err, io.EOF) {
		return document{}, io.EOF
	}
	if err != nil {
		return document{}, &LineError{File: s.name, Line: s.badSeparator(), Err: err}
	}
	// The body is the lines the reader consumed, one '\n'-terminated line
	// per input line, except the separator that ended it, if any.
	d := document{first: s.line, line: s.line + leadingBlank(body), body: body}
	for range bytes.Count(body, []byte("\n")) + 1 {
		s.skipLine()
	}
	return d, nil
}

// leadingBlank counts the blank, comment and "---" lines that start body,
// or returns 0 if there is nothing else.
func leadingBlank(body []byte) int {
	n := 0
	for line := range bytes.Lines(body) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' && !isMarker(line, "---") {
			return n
		}
		n++
	}
	return 0
}

// current returns the input line at s.off without its '\n'.
func (s *splitter) current() []byte {
	rest := s.data[s.off:]
	if i := bytes.IndexByte(rest, '\n'); i >= 0 {
		return rest[:i]
	}
	return rest
}

func (s *splitter) skipLine() {
	i := bytes.IndexByte(s.data[s.off:], '\n')
	if i < 0 {
		s.off = len(s.data)
	} else {
		s.off += i + 1
	}
	s.line++
}

// badSeparator finds the line of the "---" separator the reader refused.
func (s *splitter) badSeparator() int {
	for s.off < len(s.data) {
		if line := s.current(); bytes.HasPrefix(line, []byte("---")) && !isMarker(line, "---") {
			return s.line
		}
		s.skipLine()
	}
	return s.line
}

// isMarker reports whether line is the marker followed by nothing but
// blanks or a comment.
func isMarker(line []byte, marker string) bool {
	rest, ok := bytes.CutPrefix(line, []byte(marker))
	rest = bytes.TrimSpace(rest)
	return ok && (len(rest) == 0 || rest[0] == '#')
}

// toJSON converts the document to JSON; JSON input is used as it is.
func (d document) toJSON(name string) ([]byte, error) {
	if json.Valid(d.body) {
		return d.body, nil
	}
	if n := contentAfterEnd(d.body); n >= 0 {
		return nil, &LineError{File: name, Line: d.first + n, Err: ErrAfterDocEnd}
	}
	js, err := yaml.YAMLToJSON(d.body)
	if err != nil {
		return nil, d.yamlError(name, err)
	}
	return js, nil
}

// contentAfterEnd returns the index of the first line with content after a
// "..." line, or -1. The YAML parser would silently drop that content.
func contentAfterEnd(body []byte) int {
	i, ended := 0, false
	for line := range bytes.Lines(body) {
		t := bytes.TrimSpace(line)
		if ended && len(t) > 0 && t[0] != '#' {
			return i
		}
		ended = ended || isMarker(line, "...")
		i++
	}
	return -1
}

// yamlError turns the parser's "yaml: line 3: ..." into a LineError on the
// line of the input.
func (d document) yamlError(name string, err error) *LineError {
	msg, ok := strings.CutPrefix(err.Error(), "yaml: line ")
	num, msg, ok2 := strings.Cut(msg, ": ")
	n, nerr := strconv.Atoi(num)
	if !ok || !ok2 || nerr != nil || n < 1 {
		return &LineError{File: name, Line: d.line, Err: err}
	}
	// "unexpected end of stream" comes on the line after the last.
	n = min(n, bytes.Count(d.body, []byte("\n")))
	return &LineError{File: name, Line: d.first + n - 1, Err: &syntaxError{msg: "yaml: " + msg, err: err}}
}
