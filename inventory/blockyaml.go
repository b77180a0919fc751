package inventory

import (
	"bytes"
	"strconv"
	"strings"
)

// blockJSON converts YAML written in the block style of kubectl, Helm and
// most tools straight to JSON: block mappings and sequences, scalars of
// one line each (plain, single- or double-quoted), {} and [] for empty
// collections, comments. It reports false for anything else, which is
// the YAML parser's to read: anchors, tags, flow collections, block or
// multi-line scalars, escapes JSON does not share, plain scalars YAML
// reads as floats, timestamps or numbers of another base, keys that are
// not plain strings, text outside printable ASCII. Where it reports true,
// its JSON decodes to what the parser's does.
func blockJSON(body []byte) ([]byte, bool) {
	for _, c := range body {
		if c >= 0x7f || c < ' ' && c != '\n' {
			return nil, false
		}
	}
	p := &blockParser{src: body, out: make([]byte, 0, len(body))}
	p.next()
	if p.eof {
		return nil, false
	}
	if !p.node(p.ind) || !p.eof || p.marker {
		return nil, false
	}
	return p.out, true
}

// blockParser reads block YAML a line at a time. The current line is the
// first one not blank nor a comment from pos: its indentation, and its
// text after it, without the line break. The text of a sequence entry's
// line is, once its dash is read, what follows the dash, indented to its
// column.
type blockParser struct {
	src    []byte
	pos    int // where the line after the current one starts
	eof    bool
	marker bool // eof is a document marker's: the YAML parser's to read
	ind    int
	text   []byte
	out    []byte
}

// next moves to the next line with content.
func (p *blockParser) next() {
	for p.pos < len(p.src) {
		line := p.src[p.pos:]
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
			p.pos += i + 1
		} else {
			p.pos = len(p.src)
		}
		if isMarker(line, "---") || isMarker(line, "...") || bytes.HasPrefix(line, []byte("--- ")) {
			p.marker = true
			break
		}
		ind := indentOf(line)
		if ind < len(line) && line[ind] != '#' {
			p.ind, p.text = ind, trimRight(line[ind:])
			return
		}
	}
	p.eof, p.text = true, nil
}

// node reads the mapping or sequence whose first line is the current one,
// indented by ind.
func (p *blockParser) node(ind int) bool {
	if isDash(p.text) {
		return p.sequence(ind)
	}
	return p.mapping(ind)
}

// sequence reads the entries of a sequence whose dashes are at column ind.
func (p *blockParser) sequence(ind int) bool {
	p.out = append(p.out, '[')
	for n := 0; !p.eof && p.ind == ind && isDash(p.text); n++ {
		if n > 0 {
			p.out = append(p.out, ',')
		}
		rest := p.text[1:]
		pad := indentOf(rest)
		if pad == len(rest) || isDash(rest[pad:]) {
			return false // the entry on the lines below, or a sequence in a sequence
		}
		p.ind, p.text = ind+1+pad, rest[pad:]
		if _, _, ok := cutKey(p.text); ok {
			if !p.mapping(p.ind) {
				return false
			}
		} else if !p.lineValue(p.text) {
			return false
		}
	}
	if !p.eof && p.ind > ind {
		return false
	}
	p.out = append(p.out, ']')
	return true
}

// mapping reads the entries of a mapping whose keys are at column ind.
func (p *blockParser) mapping(ind int) bool {
	p.out = append(p.out, '{')
	for n := 0; !p.eof && p.ind == ind && !isDash(p.text); n++ {
		key, rest, ok := cutKey(p.text)
		if !ok {
			return false
		}
		if n > 0 {
			p.out = append(p.out, ',')
		}
		if p.out, ok = appendKey(p.out, key); !ok {
			return false
		}
		p.out = append(p.out, ':')
		if rest = bytes.TrimLeft(rest, " "); len(rest) > 0 && rest[0] != '#' {
			if !p.lineValue(rest) {
				return false
			}
			continue
		}
		p.next()
		switch {
		case !p.eof && p.ind > ind:
			if !p.node(p.ind) {
				return false
			}
		case !p.eof && p.ind == ind && isDash(p.text):
			if !p.sequence(ind) { // a sequence may sit at its key's column
				return false
			}
		default:
			p.out = append(p.out, "null"...)
		}
	}
	if !p.eof && p.ind > ind {
		return false
	}
	p.out = append(p.out, '}')
	return true
}

// lineValue appends the scalar, or empty collection, that is the rest of
// the current line, and moves past it: the line below must not continue it.
func (p *blockParser) lineValue(s []byte) bool {
	ind := p.ind
	var ok bool
	if p.out, ok = appendScalar(p.out, s); !ok {
		return false
	}
	p.next()
	return p.eof || p.ind <= ind
}

// cutKey splits "key: value" and "key:" at the colon. A quoted key keeps
// its quotes.
func cutKey(s []byte) (key, rest []byte, ok bool) {
	if len(s) > 0 && (s[0] == '"' || s[0] == '\'') {
		end, ok := quoteEnd(s)
		if !ok || end >= len(s) || s[end] != ':' {
			return nil, nil, false
		}
		rest = s[end+1:]
		return s[:end], rest, len(rest) == 0 || rest[0] == ' '
	}
	for i := 0; i < len(s); i++ {
		if s[i] == ':' && (i+1 == len(s) || s[i+1] == ' ') {
			return s[:i], s[i+1:], i > 0
		}
	}
	return nil, nil, false
}

// quoteEnd returns the index just past the quoted scalar s starts with.
func quoteEnd(s []byte) (int, bool) {
	q := s[0]
	for i := 1; i < len(s); i++ {
		switch {
		case q == '"' && s[i] == '\\':
			i++
		case s[i] == q && q == '\'' && i+1 < len(s) && s[i+1] == '\'':
			i++
		case s[i] == q:
			return i + 1, true
		}
	}
	return 0, false
}

// appendKey appends a mapping key as a JSON string: a plain key must be
// one that YAML reads as a string. YAML allows no key of more than 1,024
// characters on the line of its value.
func appendKey(out, key []byte) ([]byte, bool) {
	if len(key) > 1000 {
		return out, false
	}
	if key[0] == '"' || key[0] == '\'' {
		return appendQuoted(out, key)
	}
	if !plainString(key) || key[len(key)-1] == ' ' || bytes.Contains(key, []byte(" #")) {
		return out, false
	}
	return appendString(out, key), true
}

// appendScalar appends the value s, the rest of a line, as JSON.
func appendScalar(out, s []byte) ([]byte, bool) {
	if s[0] == '"' || s[0] == '\'' {
		end, ok := quoteEnd(s)
		if !ok || !onlyComment(s[end:]) {
			return out, false
		}
		return appendQuoted(out, s[:end])
	}
	if i := bytes.Index(s, []byte(" #")); i >= 0 {
		s = trimRight(s[:i])
	}
	switch string(s) {
	case "{}", "[]":
		return append(out, s...), true
	case "true", "True", "TRUE":
		return append(out, "true"...), true
	case "false", "False", "FALSE":
		return append(out, "false"...), true
	case "null", "Null", "NULL", "~":
		return append(out, "null"...), true
	}
	if bytes.Contains(s, []byte(": ")) || s[len(s)-1] == ':' {
		return out, false // a mapping where YAML allows none
	}
	if decimal(s) {
		return append(out, s...), true
	}
	if !plainString(s) {
		return out, false
	}
	return appendString(out, s), true
}

// onlyComment reports whether s, what follows a quoted scalar, is blanks
// and maybe a comment.
func onlyComment(s []byte) bool {
	t := bytes.TrimLeft(s, " ")
	return len(t) == 0 || t[0] == '#' && len(t) < len(s)
}

// decimal reports whether s is an integer as YAML and JSON both write it
// in base ten, small enough for either to read it exactly.
func decimal(s []byte) bool {
	if len(s) == 0 || len(s) > 18 || s[0] == '0' && len(s) > 1 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// plainString reports whether YAML reads the plain scalar s as a string
// for sure: it starts with a letter, a slash or an underscore and is none
// of YAML's words for booleans and null; or it starts with a digit, or a
// dash and a letter or dash (a command's flag), and is neither a number of
// any kind Go reads (YAML reads fewer) nor something like a date.
func plainString(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	switch c := s[0]; {
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '/' || c == '_':
		return !yamlWord(s)
	case c >= '0' && c <= '9':
		return bytes.IndexByte(s, ':') < 0 && notNumber(string(s)) // 1:20 is a number in YAML 1.1
	case c == '-' && len(s) > 1 && (s[1] == '-' || s[1] >= 'a' && s[1] <= 'z' || s[1] >= 'A' && s[1] <= 'Z'):
		return notNumber(string(s))
	}
	return false
}

// notNumber reports whether s, a plain scalar that YAML tries to read as
// a number or a timestamp, is neither for sure.
func notNumber(s string) bool {
	digits := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if digits == 4 && s[4] == '-' || strings.ContainsAny(s, "_.") && strings.Count(s, ".") < 2 {
		return false // a date, or maybe a number YAML reads its own way
	}
	if len(s) > 1 && s[0] == '0' && strings.ContainsRune("xXoObB", rune(s[1])) {
		return false
	}
	_, errInt := strconv.ParseInt(s, 0, 64)
	_, errUint := strconv.ParseUint(s, 0, 64)
	_, errFloat := strconv.ParseFloat(s, 64)
	return errInt != nil && errUint != nil && errFloat != nil
}

// yamlWord reports whether the plain scalar s is one YAML 1.1 reads as a
// boolean or null.
func yamlWord(s []byte) bool {
	switch string(s) {
	case "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
		"true", "True", "TRUE", "false", "False", "FALSE",
		"on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL":
		return true
	}
	return false
}

// appendQuoted appends a single- or double-quoted scalar, quotes
// included, as a JSON string. A double-quoted one may only hold the
// escapes JSON has too, and no \u.
func appendQuoted(out, q []byte) ([]byte, bool) {
	body := q[1 : len(q)-1]
	if q[0] == '\'' {
		return appendString(out, bytes.ReplaceAll(body, []byte("''"), []byte("'"))), true
	}
	for i := 0; i < len(body); i++ {
		if body[i] != '\\' {
			continue
		}
		i++
		if strings.IndexByte(`"\bfnrt`, body[i]) < 0 {
			return out, false
		}
	}
	out = append(out, '"')
	out = append(out, body...)
	return append(out, '"'), true
}

// appendString appends s, printable ASCII, as a JSON string.
func appendString(out, s []byte) []byte {
	out = append(out, '"')
	for _, c := range s {
		if c == '"' || c == '\\' {
			out = append(out, '\\')
		}
		out = append(out, c)
	}
	return append(out, '"')
}

func trimRight(s []byte) []byte { return bytes.TrimRight(s, " ") }
