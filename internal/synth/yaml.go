package synth

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"sigs.k8s.io/yaml"
)

// WriteInventory writes the inventory as one kind: List in YAML, in the
// order `kubectl get ns,nodes,pods,svc,endpointslices,deploy,rs,sts -A -o yaml`
// prints it, so that `flowpol learn --inventory` reads it. Items are
// marshalled one at a time: the YAML encoder slows down on one large
// document.
func (c *Cluster) WriteInventory(w io.Writer) error {
	bw := bufio.NewWriter(w) // keeps the first write error, which Flush returns
	fmt.Fprintf(bw, "# A synthetic cluster (seed %d): %d workloads, %d edges.\n", c.opts.Seed, c.opts.Workloads, len(c.edges))
	bw.WriteString("apiVersion: v1\nkind: List\nitems:\n")
	for _, item := range c.items() {
		data, err := yaml.Marshal(item)
		if err != nil {
			return fmt.Errorf("marshal inventory: %w", err)
		}
		writeItem(bw, data)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write inventory: %w", err)
	}
	return nil
}

// writeItem writes one marshalled object as an item of a YAML sequence.
func writeItem(bw *bufio.Writer, data []byte) {
	prefix := "- "
	for line := range bytes.Lines(data) {
		bw.WriteString(prefix)
		bw.Write(line)
		prefix = "  "
	}
}

func (c *Cluster) items() []any {
	inv := c.inv
	out := make([]any, 0, inv.Objects())
	out = appendPtrs(out, inv.Namespaces)
	out = appendPtrs(out, inv.Nodes)
	out = appendPtrs(out, inv.Pods)
	out = appendPtrs(out, inv.Services)
	out = appendPtrs(out, inv.EndpointSlices)
	out = appendPtrs(out, inv.Deployments)
	out = appendPtrs(out, inv.ReplicaSets)
	return appendPtrs(out, inv.StatefulSets)
}

func appendPtrs[T any](out []any, items []T) []any {
	for i := range items {
		out = append(out, &items[i])
	}
	return out
}
