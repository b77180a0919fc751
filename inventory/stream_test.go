package inventory

import (
	"errors"
	"fmt"
	"io"
	"slices"
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

// TestLoadManyItemsInOrder: a List's items, decoded on every core, are
// kept in their order, and of several bad ones the first is the one
// named, in YAML and in JSON. If it failed, a large inventory would come
// back shuffled, or its error would name whichever bad item finished
// first.
func TestLoadManyItemsInOrder(t *testing.T) {
	const n = 300
	pod := func(i int) string {
		return fmt.Sprintf(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p%d","namespace":"ns"}}`, i)
	}
	list := func(bad ...int) (yamlText, jsonText string) {
		var y, j strings.Builder
		y.WriteString("apiVersion: v1\nitems:\n")
		for i := range n {
			item := pod(i)
			if slices.Contains(bad, i) {
				item = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"ns"},"spec":{"containers":"x"}}`
			}
			fmt.Fprintf(&y, "- %s\n", item)
			if i > 0 {
				j.WriteString(",\n")
			}
			j.WriteString(item)
		}
		y.WriteString("kind: List\n")
		return y.String(), `{"kind":"List","apiVersion":"v1","items":[` + "\n" + j.String() + "]}"
	}
	y, j := list()
	for _, in := range []string{y, j} {
		inv, err := Load(strings.NewReader(in), "many")
		if err != nil {
			t.Fatal(err)
		}
		if len(inv.Pods) != n {
			t.Fatalf("%d pods, want %d", len(inv.Pods), n)
		}
		for i, p := range inv.Pods {
			if want := fmt.Sprintf("p%d", i); p.Name != want {
				t.Fatalf("pod %d is %s, want %s", i, p.Name, want)
			}
		}
	}
	y, j = list(250, 37, 180)
	for in, want := range map[string]string{y: "many:40: items[37] (Pod ns/p)", j: "many:39: items[37] (Pod ns/p)"} {
		if _, err := Load(strings.NewReader(in), "many"); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("error %v, want %q", err, want)
		}
	}
}
