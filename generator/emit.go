package generator

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode"

	yaml "go.yaml.in/yaml/v2"
)

// errUncommon is what the block writer returns for a value whose YAML it
// does not know to write as the YAML package does; the caller falls back
// to that package.
var errUncommon = errors.New("uncommon YAML value")

// bestWidth is the line width beyond which the YAML package folds scalars
// at their spaces.
const bestWidth = 80

// blockWriter writes the generic values yamlValue makes (maps, lists,
// strings, integers, booleans, nulls) in the block style of the YAML
// package, byte for byte: keys in its order, two-space indents, lists at
// their key's indent. A scalar is rendered by the package itself, once per
// distinct string, and only used where it cannot fold; a multi-line string
// is written as a literal block when it has none of the features that make
// the package choose otherwise. Anything else is errUncommon.
type blockWriter struct {
	buf    bytes.Buffer
	keys   map[string]string // a string's rendering as a mapping key
	values map[string]string // and as a value
}

func newBlockWriter() *blockWriter {
	return &blockWriter{keys: map[string]string{}, values: map[string]string{}}
}

// document writes a top-level mapping.
func (w *blockWriter) document(v any) ([]byte, error) {
	w.buf.Reset()
	m, ok := v.(map[any]any)
	if !ok || len(m) == 0 {
		return nil, errUncommon
	}
	if err := w.mapping(m, 0, ""); err != nil {
		return nil, err
	}
	return bytes.Clone(w.buf.Bytes()), nil
}

// mapping writes m at indent; first, when not empty, replaces the indent
// of its first line (a list item's "- ").
func (w *blockWriter) mapping(m map[any]any, indent int, first string) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		s, ok := k.(string)
		if !ok {
			return errUncommon
		}
		keys = append(keys, s)
	}
	slices.SortFunc(keys, naturalCompare)
	for i := 1; i < len(keys); i++ {
		if naturalCompare(keys[i-1], keys[i]) == 0 {
			return errUncommon // distinct keys the package may sort either way
		}
	}
	pad := strings.Repeat(" ", indent)
	for i, k := range keys {
		key, err := w.render(w.keys, k, true)
		if err != nil {
			return err
		}
		if i == 0 && first != "" {
			w.buf.WriteString(first)
		} else {
			w.buf.WriteString(pad)
		}
		w.buf.WriteString(key)
		w.buf.WriteByte(':')
		if err := w.value(m[k], indent, indent+len(key)+2); err != nil {
			return err
		}
	}
	return nil
}

// value writes a mapping's value after its key: col is where a scalar
// would start on the key's line.
func (w *blockWriter) value(v any, indent, col int) error {
	switch v := v.(type) {
	case map[any]any:
		if len(v) == 0 {
			w.buf.WriteString(" {}\n")
			return nil
		}
		w.buf.WriteByte('\n')
		return w.mapping(v, indent+2, "")
	case []any:
		if len(v) == 0 {
			w.buf.WriteString(" []\n")
			return nil
		}
		w.buf.WriteByte('\n')
		return w.sequence(v, indent)
	case string:
		if strings.Contains(v, "\n") {
			return w.literal(v, indent+2)
		}
	}
	w.buf.WriteByte(' ')
	return w.scalar(v, col)
}

// sequence writes a list at indent, as its key's value or a document.
func (w *blockWriter) sequence(items []any, indent int) error {
	dash := strings.Repeat(" ", indent) + "- "
	for _, it := range items {
		switch it := it.(type) {
		case map[any]any:
			if len(it) == 0 {
				w.buf.WriteString(dash + "{}\n")
				continue
			}
			if err := w.mapping(it, indent+2, dash); err != nil {
				return err
			}
		case []any:
			return errUncommon // a list in a list
		default:
			if s, ok := it.(string); ok && strings.Contains(s, "\n") {
				return errUncommon
			}
			w.buf.WriteString(dash)
			if err := w.scalar(it, len(dash)); err != nil {
				return err
			}
		}
	}
	return nil
}

// scalar writes a one-line scalar starting at column col, and its line
// end.
func (w *blockWriter) scalar(v any, col int) error {
	switch v := v.(type) {
	case string:
		s, err := w.render(w.values, v, false)
		if err != nil {
			return err
		}
		if strings.Contains(s, " ") && col+len(s) > bestWidth {
			return errUncommon // it may fold here
		}
		w.buf.WriteString(s)
	case int:
		w.buf.WriteString(strconv.Itoa(v))
	case int64:
		w.buf.WriteString(strconv.FormatInt(v, 10))
	case uint64:
		w.buf.WriteString(strconv.FormatUint(v, 10))
	case bool:
		w.buf.WriteString(strconv.FormatBool(v))
	case nil:
		w.buf.WriteString("null")
	default:
		return errUncommon // floats have special forms
	}
	w.buf.WriteByte('\n')
	return nil
}

// render is a one-line string as the YAML package writes it as a key or a
// value, from cache.
func (w *blockWriter) render(cache map[string]string, s string, key bool) (string, error) {
	if r, ok := cache[s]; ok {
		return r, nil
	}
	var out []byte
	var err error
	var prefix, suffix string
	if key {
		out, err = yaml.Marshal(map[string]int{s: 1})
		suffix = ": 1\n"
	} else {
		out, err = yaml.Marshal(map[string]string{"a": s})
		prefix, suffix = "a: ", "\n"
	}
	if err != nil {
		return "", err
	}
	r, ok := strings.CutPrefix(string(out), prefix)
	if ok {
		r, ok = strings.CutSuffix(r, suffix)
	}
	if !ok || strings.Contains(r, "\n") || r == "" {
		return "", errUncommon
	}
	cache[s] = r
	return r, nil
}

// literal writes a multi-line string as a literal block at indent ("|-"),
// when it has no final line break, no empty lines, no lines that start or
// end with a space and only printable ASCII: the strings for which the
// YAML package chooses that style and no indentation indicator.
func (w *blockWriter) literal(s string, indent int) error {
	if strings.HasSuffix(s, "\n") {
		return errUncommon
	}
	pad := strings.Repeat(" ", indent)
	w.buf.WriteString(" |-\n")
	for line := range strings.SplitSeq(s, "\n") {
		if line == "" || line[0] == ' ' || line[len(line)-1] == ' ' {
			return errUncommon
		}
		for i := range len(line) {
			if line[i] < 0x20 || line[i] > 0x7e {
				return errUncommon
			}
		}
		w.buf.WriteString(pad)
		w.buf.WriteString(line)
		w.buf.WriteByte('\n')
	}
	return nil
}

// naturalCompare orders string keys as the YAML package sorts them:
// letters before other runes, runs of digits by their value.
func naturalCompare(a, b string) int {
	if naturalLess(a, b) {
		return -1
	}
	if naturalLess(b, a) {
		return 1
	}
	return 0
}

func naturalLess(a, b string) bool {
	ar, br := []rune(a), []rune(b)
	for i := 0; i < len(ar) && i < len(br); i++ {
		if ar[i] == br[i] {
			continue
		}
		al, bl := unicode.IsLetter(ar[i]), unicode.IsLetter(br[i])
		if al && bl {
			return ar[i] < br[i]
		}
		if al || bl {
			return bl
		}
		var ai, bi int
		var an, bn int64
		if ar[i] == '0' || br[i] == '0' {
			for j := i - 1; j >= 0 && unicode.IsDigit(ar[j]); j-- {
				if ar[j] != '0' {
					an, bn = 1, 1
					break
				}
			}
		}
		for ai = i; ai < len(ar) && unicode.IsDigit(ar[ai]); ai++ {
			an = an*10 + int64(ar[ai]-'0')
		}
		for bi = i; bi < len(br) && unicode.IsDigit(br[bi]); bi++ {
			bn = bn*10 + int64(br[bi]-'0')
		}
		if an != bn {
			return an < bn
		}
		if ai != bi {
			return ai < bi
		}
		return ar[i] < br[i]
	}
	return len(ar) < len(br)
}
