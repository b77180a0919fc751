package policyfile

import (
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// lineAt is the line of the field at path ("spec.ingress[0].ports[1].port")
// under node, or of the deepest part of it that is there. A path without
// indices ("spec.ingress.ports") takes the first element that has the rest.
func lineAt(node *yaml.Node, path string) int {
	line, _ := walk(node, segments(path))
	return line
}

// walk follows segs from n and returns the line reached and whether the
// whole path was found.
func walk(n *yaml.Node, segs []string) (int, bool) {
	if len(segs) == 0 {
		return n.Line, true
	}
	seg := segs[0]
	switch {
	case n.Kind == yaml.SequenceNode && isIndex(seg):
		i, _ := strconv.Atoi(seg) // digits
		if i < len(n.Content) {
			line, ok := walk(n.Content[i], segs[1:])
			return line, ok
		}
	case n.Kind == yaml.SequenceNode:
		for _, c := range n.Content {
			if line, ok := walk(c, segs); ok {
				return line, true
			}
		}
	case n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == seg {
				if len(segs) == 1 {
					return n.Content[i].Line, true
				}
				return walk(n.Content[i+1], segs[1:])
			}
		}
	}
	return n.Line, false
}

// child is the value of key in a mapping node, or nil.
func child(n *yaml.Node, key string) *yaml.Node {
	for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// segments splits "a.b[0].c" into a, b, 0, c.
func segments(path string) []string {
	var out []string
	for part := range strings.SplitSeq(path, ".") {
		name, rest, _ := strings.Cut(part, "[")
		if name != "" {
			out = append(out, name)
		}
		for rest != "" {
			idx, after, _ := strings.Cut(rest, "]")
			out = append(out, idx)
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return out
}

func isIndex(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}
