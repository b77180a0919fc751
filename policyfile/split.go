package policyfile

import (
	"bytes"
)

// document is one YAML (or JSON) document of a file.
type document struct {
	line int // the file line its body starts on, from 1
	body []byte
}

// split cuts data into documents at "---" lines, as kubectl does: a line
// that starts with "---" followed by nothing or a comment.
func split(data []byte) []document {
	var docs []document
	cur := document{line: 1}
	n := 0
	for line := range bytes.Lines(data) {
		n++
		if isSeparator(line) {
			docs = append(docs, cur)
			cur = document{line: n + 1}
			continue
		}
		cur.body = append(cur.body, line...)
	}
	return append(docs, cur)
}

func isSeparator(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, []byte("---"))
	if !ok {
		return false
	}
	rest = bytes.TrimSpace(rest)
	return len(rest) == 0 || rest[0] == '#'
}
