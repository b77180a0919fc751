package generator

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/flowpol/flowpol/topology"
)

// manyAddrs is how many addresses make a name's ipBlock rules fragile even
// when every one of them was connected to: a pool that large rotates.
const manyAddrs = 8

// namedKey is a workload and a DNS name behind some of its egress peers.
type namedKey struct {
	ref  topology.WorkloadRef
	name string
}

// noteNames remembers which addresses a workload reached through each of
// an edge's names, for the warnings of rotatingNames.
func (g *gen) noteNames(e topology.EdgeStats) {
	if e.Dst.Kind != topology.KindExternal || len(e.Names) == 0 {
		return
	}
	if g.named == nil {
		g.named = map[namedKey][]netip.Addr{}
	}
	for _, n := range e.Names {
		k := namedKey{e.Src.Workload, n}
		if !slices.Contains(g.named[k], e.Dst.Addr) {
			g.named[k] = append(g.named[k], e.Dst.Addr)
		}
	}
}

// namesEvidence is the evidence's note of an edge's DNS names.
func namesEvidence(e topology.EdgeStats) string {
	if len(e.Names) == 0 {
		return ""
	}
	return "; DNS names: " + strings.Join(e.Names, ", ")
}

// rotatingNames warns, per workload and name, when the name resolved in
// the window to more addresses than the workload connected to, or to
// many: ipBlock rules of the addresses seen break when they rotate.
func (g *gen) rotatingNames() []string {
	var out []string
	for k, connected := range g.named {
		resolved := g.w.Resolved[k.name]
		if len(resolved) <= len(connected) && len(resolved) <= manyAddrs {
			continue
		}
		slices.SortFunc(connected, netip.Addr.Compare)
		out = append(out, fmt.Sprintf("%s: %s resolved to %d addresses in the window and %d of them were connected to (%s): "+
			"its ipBlock rules allow only those and will break when the addresses rotate; a format that names peers "+
			"by DNS name (--format cilium, toFQDNs) does not", k.ref, k.name, max(len(resolved), len(connected)), len(connected), joinAddrs(connected)))
	}
	slices.SortFunc(out, func(a, b string) int { return cmp.Compare(a, b) })
	return out
}

func joinAddrs(addrs []netip.Addr) string {
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}
