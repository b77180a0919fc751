package resolve

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/topology"
)

func exampleResolver(t testing.TB) *Static {
	t.Helper()
	inv, err := inventory.LoadFile("../testdata/example/cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return New(inv, Options{ClusterCIDRs: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12")}})
}

// edgesOf resolves one record into the edges it would add, as text.
func edgesOf(r Resolver, rec *flow.Record) []string {
	var p Placement
	r.Place(rec, &p)
	var out []string
	for _, d := range p.Dsts {
		out = append(out, r.End(p.Src.End).String()+" -> "+r.End(d.End).String()+":"+itoa(d.Port)+"/"+rec.Proto.String())
	}
	slices.Sort(out)
	return out
}

func itoa(p uint16) string { return strconv.Itoa(int(p)) }

func TestResolve(t *testing.T) {
	r := exampleResolver(t)
	tests := []struct {
		name     string
		src, dst string
		proto    flow.Proto
		podUID   string
		want     []string
	}{
		{"client through a Service to a named target port", "10.244.1.10:43122", "10.96.10.20:80", flow.TCP, "",
			[]string{"shop/Deployment/frontend -> shop/Deployment/api:8080/TCP"}},
		{"server side sees the pod and target port", "10.244.1.10:43122", "10.244.1.20:8080", flow.TCP, "",
			[]string{"shop/Deployment/frontend -> shop/Deployment/api:8080/TCP"}},
		{"second Service port, another named port", "10.244.1.10:1", "10.96.10.20:9090", flow.TCP, "",
			[]string{"shop/Deployment/frontend -> shop/Deployment/api:9090/TCP"}},
		{"DNS through kube-dns EndpointSlices", "10.244.1.20:5353", "10.96.0.10:53", flow.UDP, "",
			[]string{"shop/Deployment/api -> kube-system/Deployment/coredns:53/UDP"}},
		{"StatefulSet behind a named target port", "10.244.1.20:1", "10.96.20.10:5432", flow.TCP, "",
			[]string{"shop/Deployment/api -> data/StatefulSet/postgres:5432/TCP"}},
		{"CronJob's pod by uid", "10.9.9.9:1", "10.244.2.40:5432", flow.TCP, "1f4e6a2b-0003-4000-8000-000000000003",
			[]string{"shop/CronJob/report -> data/StatefulSet/postgres:5432/TCP"}},
		{"unknown uid falls back to the address", "10.244.1.30:1", "10.244.2.40:5432", flow.TCP, "no-such-uid",
			[]string{"shop/CronJob/report -> data/StatefulSet/postgres:5432/TCP"}},
		{"the API server through the kubernetes Service", "10.244.1.20:1", "10.96.0.1:443", flow.TCP, "",
			[]string{"shop/Deployment/api -> apiserver:6443/TCP"}},
		{"the API server at its endpoint", "10.244.1.20:1", "192.168.10.10:6443", flow.TCP, "",
			[]string{"shop/Deployment/api -> apiserver:6443/TCP"}},
		{"hostNetwork pod or node as client", "192.168.10.11:1", "10.244.1.20:9090", flow.TCP, "",
			[]string{"host/node-a/192.168.10.11 -> shop/Deployment/api:9090/TCP"}},
		{"node as server", "10.244.1.20:1", "192.168.10.12:10250", flow.TCP, "",
			[]string{"shop/Deployment/api -> host/node-b/192.168.10.12:10250/TCP"}},
		{"external", "10.244.2.20:1", "203.0.113.10:443", flow.TCP, "",
			[]string{"shop/Deployment/api -> external/203.0.113.10:443/TCP"}},
		{"unknown address in a pod CIDR", "10.244.2.99:1", "10.96.10.20:80", flow.TCP, "",
			[]string{"unresolved/10.244.2.99 (" + topology.ReasonUnknownClusterAddr.String() + ") -> shop/Deployment/api:8080/TCP"}},
		{"unknown address in a --cluster-cidr", "10.244.1.10:1", "10.100.0.1:80", flow.TCP, "",
			[]string{"shop/Deployment/frontend -> unresolved/10.100.0.1 (" + topology.ReasonUnknownClusterAddr.String() + "):80/TCP"}},
		{"a Service port it does not have", "10.244.1.10:1", "10.96.10.20:81", flow.TCP, "",
			[]string{"shop/Deployment/frontend -> unresolved/10.96.10.20 (" + topology.ReasonNoServicePort.String() + "):81/TCP"}},
		{"a Service's port with the wrong protocol", "10.244.1.10:1", "10.96.10.20:80", flow.UDP, "",
			[]string{"shop/Deployment/frontend -> unresolved/10.96.10.20 (" + topology.ReasonNoServicePort.String() + "):80/UDP"}},
		{"a Service address as source", "10.96.10.20:80", "10.244.1.10:1", flow.TCP, "",
			[]string{"unresolved/10.96.10.20 (" + topology.ReasonServiceAsSource.String() + ") -> shop/Deployment/frontend:1/TCP"}},
		{"pod talking to its own workload", "10.244.1.40:1", "10.244.2.40:5432", flow.TCP, "",
			[]string{"data/StatefulSet/postgres -> data/StatefulSet/postgres:5432/TCP"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &flow.Record{Time: time.Unix(0, 0), Proto: tt.proto, Src: netip.MustParseAddrPort(tt.src),
				Dst: netip.MustParseAddrPort(tt.dst), Observer: flow.Client, PodUID: tt.podUID, Count: 1}
			if got := edgesOf(r, rec); !slices.Equal(got, tt.want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func TestResolverWorkloads(t *testing.T) {
	r := exampleResolver(t)
	tests := []struct {
		workload string
		selector string
		dns      string
	}{
		{"shop/Deployment/frontend", "&LabelSelector{MatchLabels:map[string]string{app: frontend,},MatchExpressions:[]LabelSelectorRequirement{},}", ""},
		{"shop/CronJob/report", "&LabelSelector{MatchLabels:map[string]string{app: report,},MatchExpressions:[]LabelSelectorRequirement{},}", ""},
		{"data/StatefulSet/postgres", "&LabelSelector{MatchLabels:map[string]string{app: postgres,},MatchExpressions:[]LabelSelectorRequirement{},}", ""},
		{"kube-system/Deployment/coredns", "&LabelSelector{MatchLabels:map[string]string{k8s-app: kube-dns,},MatchExpressions:[]LabelSelectorRequirement{},}", "[{53 TCP} {53 UDP}]"},
	}
	for _, tt := range tests {
		t.Run(tt.workload, func(t *testing.T) {
			ws, _ := r.Workloads(0)
			for ref, w := range ws {
				if ref.String() != tt.workload {
					continue
				}
				if got := w.Selector.String(); got != tt.selector {
					t.Errorf("selector %s, want %s", got, tt.selector)
				}
				if got := dnsString(w.DNSPorts); got != tt.dns {
					t.Errorf("DNS ports %s, want %s", got, tt.dns)
				}
				return
			}
			t.Fatalf("workload %s not found", tt.workload)
		})
	}
	if got := r.Cluster().APIServer; len(got) != 1 || got[0].String() != "192.168.10.10:6443" {
		t.Errorf("API server endpoints %v, want [192.168.10.10:6443]", got)
	}
}

func dnsString(ps []topology.PortProto) string {
	if len(ps) == 0 {
		return ""
	}
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = "{" + itoa(p.Port) + " " + p.Proto.String() + "}"
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// A fixed inventory is version 1: the first ask gets every workload, later
// asks nothing, and no placement waits for a newer state.
func TestStaticVersion(t *testing.T) {
	r := exampleResolver(t)
	ws, v := r.Workloads(0)
	if len(ws) == 0 || v != 1 {
		t.Fatalf("Workloads(0) = %d workloads, version %d; want all of them, version 1", len(ws), v)
	}
	if ws, v := r.Workloads(v); ws != nil || v != 1 {
		t.Errorf("Workloads(1) = %d workloads, version %d; want none, version 1", len(ws), v)
	}
	p := Placement{Unknown: true}
	r.Place(&flow.Record{Time: time.Unix(0, 0), Proto: flow.TCP, Src: netip.MustParseAddrPort("10.244.2.99:1"),
		Dst: netip.MustParseAddrPort("10.100.0.1:80"), PodUID: "no-such-uid", Count: 1}, &p)
	if p.Unknown {
		t.Error("a fixed inventory's placement is Unknown")
	}
}
