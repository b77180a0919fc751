package inventory

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/flowpol/flowpol/internal/yamlline"
)

// document is the text of one YAML or JSON document, or of one entry of a
// List's items.
type document struct {
	first int // the input line of its first line, from 1
	line  int // the input line of its first line that is not blank or a comment
	body  []byte
	// lineOf maps a line of body, from 1, to the input's; nil when body's
	// lines follow each other in the input from first.
	lineOf func(int) int
}

func (d document) inputLine(n int) int {
	if d.lineOf != nil {
		return d.lineOf(n)
	}
	return d.first + n - 1
}

// toJSON converts the document to JSON; JSON input is used as it is.
func (d document) toJSON(name string) ([]byte, error) {
	if json.Valid(d.body) {
		return d.body, nil
	}
	if n := contentAfterEnd(d.body); n >= 0 {
		return nil, &LineError{File: name, Line: d.inputLine(n + 1), Err: ErrAfterDocEnd}
	}
	if js, ok := blockJSON(d.body); ok {
		return js, nil
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

// isMarker reports whether line is the marker followed by nothing but
// blanks or a comment.
func isMarker(line []byte, marker string) bool {
	rest, ok := bytes.CutPrefix(line, []byte(marker))
	rest = bytes.TrimSpace(rest)
	return ok && (len(rest) == 0 || rest[0] == '#')
}

// yamlError turns the parser's "yaml: line 3: ..." into a LineError on the
// line of the input that breaks the document: the parser names the line
// where the enclosing block began.
func (d document) yamlError(name string, err error) *LineError {
	n, msg, ok := cutYAMLLine(err.Error())
	if !ok {
		return &LineError{File: name, Line: d.line, Err: err}
	}
	fails := func(b []byte) bool {
		_, err := yaml.YAMLToJSON(b)
		_, m, _ := cutYAMLLine(errString(err))
		return err != nil && m == msg
	}
	if at := yamlline.Find(d.body, fails); at > 0 {
		n = at
	}
	// "unexpected end of stream" comes on the line after the last.
	n = min(n, max(1, bytes.Count(d.body, []byte("\n"))))
	return &LineError{File: name, Line: d.inputLine(n), Err: &syntaxError{msg: "yaml: " + msg, err: err}}
}

// cutYAMLLine splits "yaml: line 3: msg".
func cutYAMLLine(s string) (int, string, bool) {
	rest, ok := strings.CutPrefix(s, "yaml: line ")
	num, msg, ok2 := strings.Cut(rest, ": ")
	n, err := strconv.Atoi(num)
	return n, msg, ok && ok2 && err == nil && n >= 1
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
