package yamlline

import (
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

func sameError(body string) func([]byte) bool {
	var n yaml.Node
	want := yaml.Unmarshal([]byte(body), &n)
	return func(b []byte) bool {
		var n yaml.Node
		err := yaml.Unmarshal(b, &n)
		return err != nil && want != nil && tail(err.Error()) == tail(want.Error())
	}
}

// tail drops "yaml: line N: ".
func tail(s string) string {
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

// TestFind fails if the line found is not the one that breaks the text.
func TestFind(t *testing.T) {
	tests := []struct {
		name, body string
		want       int
	}{
		{"indentation on line 4", "exclude:\n  - from: a\n    to: b\n   ports: [80]\n  - to: c\n", 4},
		{"tab on line 3", "a: 1\nb:\n\tc: 2\n", 3},
		{"unclosed flow on line 2", "a: 1\nb: [1, 2\nc: 3\n", 2},
		{"valid", "a: 1\nb: 2\n", 0},
		{"empty", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Find([]byte(tt.body), sameError(tt.body)); got != tt.want {
				t.Errorf("line %d, want %d", got, tt.want)
			}
		})
	}
}
