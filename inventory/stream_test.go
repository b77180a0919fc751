package inventory

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// zeros is an input that never ends.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestLoadBounds fails if an input that never ends, or one larger than the
// bounds, is read without limit instead of refused with an error naming it.
func TestLoadBounds(t *testing.T) {
	tests := []struct {
		name string
		in   io.Reader
		opts Options
		is   error
		want string
	}{
		{"endless zeros", zeros{}, Options{}, ErrObjectTooLarge, "zero:1: object too large: a line of more than 16777216 bytes"},
		{"whole file", strings.NewReader(strings.Repeat("# c\n", 100)), Options{MaxBytes: 40}, ErrTooLarge, "zero:11: inventory too large: more than 40 bytes"},
		{"one object", strings.NewReader("kind: ConfigMap\ndata:\n" + strings.Repeat("  a: x\n", 20)), Options{MaxObjectBytes: 64}, ErrObjectTooLarge, "zero:1: object too large"},
		{"one JSON item", strings.NewReader(`{"kind":"List","items":[{"kind":"ConfigMap","data":{"a":"` + strings.Repeat("x", 100) + `"}}]}`), Options{MaxObjectBytes: 64}, ErrObjectTooLarge, "zero:1: object too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.opts.Load(tt.in, "zero")
			if !errors.Is(err, tt.is) || err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// TestLoadJSONSyntaxLine fails if a JSON syntax error is reported as a YAML
// error, or on another line than its own.
func TestLoadJSONSyntaxLine(t *testing.T) {
	in := "{\n  \"apiVersion\": \"v1\",\n  \"items\": [\n    {\"kind\": \"Namespace\",\n     \"apiVersion\": \"v1\" \"metadata\": {}}\n  ],\n  \"kind\": \"List\"\n}\n"
	_, err := Load(strings.NewReader(in), "c.json")
	if err == nil || !strings.HasPrefix(err.Error(), "c.json:5: invalid JSON: ") {
		t.Fatalf("error %v, want a JSON error on line 5", err)
	}
}
