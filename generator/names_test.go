package generator

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/topology"
)

// namedWindow is a window in which frontend connected to the addresses
// connected, each through the name api.example.com, which resolved to
// the addresses resolved.
func namedWindow(connected []string, resolved int) *topology.Window {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	ref := topology.WorkloadRef{Namespace: "shop", Kind: "Deployment", Name: "frontend"}
	w := &topology.Window{From: t0, To: t0.Add(time.Hour), Workloads: map[topology.WorkloadRef]topology.Workload{
		ref: {Ref: ref, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "frontend"}}},
	}, Resolved: map[string][]netip.Addr{}}
	for i := range resolved {
		w.Resolved["api.example.com"] = append(w.Resolved["api.example.com"], netip.MustParseAddr(fmt.Sprintf("203.0.113.%d", i+1)))
	}
	for _, a := range connected {
		w.Edges = append(w.Edges, topology.EdgeStats{
			Edge:  topology.Edge{Src: topology.End{Kind: topology.KindWorkload, Workload: ref}, Dst: topology.End{Kind: topology.KindExternal, Addr: netip.MustParseAddr(a)}, Port: 443, Proto: flow.TCP},
			Count: 2, First: t0, Last: t0.Add(time.Minute), SrcPods: 1, Names: []string{"api.example.com"},
		})
	}
	return w
}

// An external peer with names stays an ipBlock of each address seen, its
// evidence naming the names; generate warns when the name resolved to more
// addresses than were connected to, or to many: those rules break when
// the addresses rotate. If it failed, the policy would allow addresses
// nobody connected to, or fail silently the day the name moves.
func TestNamedExternalPeers(t *testing.T) {
	tests := []struct {
		name      string
		connected []string
		resolved  int
		warning   string
	}{
		{"more resolved than connected", []string{"203.0.113.1", "203.0.113.3"}, 3,
			"shop/Deployment/frontend: api.example.com resolved to 3 addresses in the window and 2 of them were connected to (203.0.113.1, 203.0.113.3)"},
		{"all connected", []string{"203.0.113.1", "203.0.113.2"}, 2, ""},
		{"many", []string{"203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4", "203.0.113.5", "203.0.113.6", "203.0.113.7", "203.0.113.8", "203.0.113.9"}, 9,
			"api.example.com resolved to 9 addresses in the window and 9 of them were connected to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Generate(namedWindow(tt.connected, tt.resolved), Options{})
			if len(res.Policies) != 1 {
				t.Fatalf("%d policies", len(res.Policies))
			}
			p := res.Policies[0]
			var cidrs []string
			for _, r := range p.Spec.Egress {
				for _, peer := range r.To {
					cidrs = append(cidrs, peer.IPBlock.CIDR)
				}
			}
			var want []string
			for _, a := range tt.connected {
				want = append(want, a+"/32")
			}
			if !slices.Equal(cidrs, want) {
				t.Errorf("egress ipBlocks %v, want %v", cidrs, want)
			}
			ev := p.Annotations[AnnotationEvidence]
			if n := strings.Count(ev, "; DNS names: api.example.com"); n != len(tt.connected) {
				t.Errorf("evidence names the name %d times, want %d:\n%s", n, len(tt.connected), ev)
			}
			var warned []string
			for _, w := range res.Warnings {
				if strings.Contains(w, "api.example.com") {
					warned = append(warned, w)
				}
			}
			switch {
			case tt.warning == "" && len(warned) > 0:
				t.Errorf("warned %q", warned)
			case tt.warning != "" && (len(warned) != 1 || !strings.Contains(warned[0], tt.warning) || !strings.Contains(warned[0], "--format cilium")):
				t.Errorf("warnings %q, want one with %q naming the better format", warned, tt.warning)
			}
		})
	}
}
