package inventory

import (
	"slices"
	"strings"
	"testing"
)

// TestWarnings fails if an inventory that leaves something to
// interpretation (no pods, two Running pods on one address) passes
// without a warning, or one that does not gets one.
func TestWarnings(t *testing.T) {
	pod := func(name, phase, ip string) string {
		return "---\napiVersion: v1\nkind: Pod\nmetadata: {name: " + name + ", namespace: shop}\nstatus: {phase: " + phase + ", podIP: " + ip + "}\n"
	}
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", []string{"the inventory has no pods: every pod address will be external or unresolved"}},
		{"only a namespace", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n", []string{"the inventory has no pods: every pod address will be external or unresolved"}},
		{"shared address", pod("a", "Running", "10.0.0.1") + pod("b", "Running", "10.0.0.1") + pod("c", "Running", "10.0.0.2"),
			[]string{"Running pods [shop/a shop/b] share the address 10.0.0.1: flows to it are placed on the first"}},
		{"one not running", pod("a", "Running", "10.0.0.1") + pod("b", "Succeeded", "10.0.0.1"), nil},
		{"distinct", pod("a", "Running", "10.0.0.1") + pod("b", "Running", "10.0.0.2"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := Load(strings.NewReader(tt.in), "c.yaml")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range inv.Warnings() {
				got = append(got, w.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("warnings %q, want %q", got, tt.want)
			}
		})
	}
}
