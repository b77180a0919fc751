package overrides

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/topology"
)

func wl(ns, kind, name string) topology.End {
	return topology.End{Kind: topology.KindWorkload, Workload: topology.WorkloadRef{Namespace: ns, Kind: kind, Name: name}}
}

func TestRewrite(t *testing.T) {
	checkoutToEmail := topology.Edge{Src: wl("shop", "Deployment", "checkout"), Dst: wl("shop", "Deployment", "email"), Port: 8080, Proto: flow.TCP}
	toExternal := topology.Edge{Src: wl("shop", "Deployment", "api"), Dst: topology.End{Kind: topology.KindExternal, Addr: netip.MustParseAddr("2001:db8::1")}, Port: 443, Proto: flow.TCP}
	tests := []struct {
		name, in string
		edits    Edits
		want     string
	}{
		{
			name:  "a new file",
			edits: Edits{Exclude: []topology.Edge{checkoutToEmail}},
			want: `exclude:
  - from: shop/Deployment/checkout
    to: shop/Deployment/email
    ports: ["8080/TCP"]
`,
		},
		{
			name: "what the edits do not touch is kept, comments too",
			in: `# reviewed by the platform team
skipNamespaces: [kube-system, monitoring] # ours
exclude:
  - to: 203.0.113.0/24 # the old partner
    ports: ["443/TCP"]
selectors:
  shop/Deployment/api: {app: api}
`,
			edits: Edits{
				Exclude:   []topology.Edge{checkoutToEmail, toExternal},
				Allow:     []AllowEdit{{Workload: checkoutToEmail.Src.Workload, Peer: "10.20.0.0/16", Ports: []string{"53/UDP"}}},
				Selectors: map[topology.WorkloadRef]map[string]string{checkoutToEmail.Dst.Workload: {"app": "email", "track": "stable"}},
			},
			want: `# reviewed by the platform team
skipNamespaces: [kube-system, monitoring] # ours
exclude:
  - to: 203.0.113.0/24 # the old partner
    ports: ["443/TCP"]
  - from: shop/Deployment/checkout
    to: shop/Deployment/email
    ports: ["8080/TCP"]
  - from: shop/Deployment/api
    to: "2001:db8::1"
    ports: ["443/TCP"]
selectors:
  shop/Deployment/api: {app: api}
  shop/Deployment/email: {app: email, track: stable}
allow:
  - workload: shop/Deployment/checkout
    egressTo: 10.20.0.0/16
    ports: ["53/UDP"]
`,
		},
		{
			name: "an edge allowed again loses its exact entry, not a broader one",
			in: `exclude:
  - from: shop/Deployment/checkout
    to: shop/Deployment/email
    ports: ["8080/TCP"]
  - from: shop/Deployment/checkout
    to: shop/Deployment/email
`,
			edits: Edits{Include: []topology.Edge{checkoutToEmail}},
			want: `exclude:
  - from: shop/Deployment/checkout
    to: shop/Deployment/email
`,
		},
		{
			name:  "an exclusion already there is not written twice; the last one removed drops the key",
			in:    "exclude:\n  - from: shop/Deployment/checkout\n    to: shop/Deployment/email\n    ports: [8080/TCP]\n",
			edits: Edits{Include: []topology.Edge{checkoutToEmail}},
			want:  "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Rewrite([]byte(tt.in), "o.yaml", tt.edits)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
			s, err := Parse(strings.NewReader(string(got)), "o.yaml")
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range tt.edits.Exclude {
				if _, ok := s.ExactExclusion(e); !ok {
					t.Errorf("%s is not excluded exactly", e)
				}
			}
			for _, e := range tt.edits.Include {
				if _, ok := s.ExactExclusion(e); ok {
					t.Errorf("%s is still excluded exactly", e)
				}
			}
		})
	}
}

func TestRewriteErrors(t *testing.T) {
	apiserver := topology.Edge{Src: wl("a", "Deployment", "b"), Dst: topology.End{Kind: topology.KindAPIServer}, Port: 443, Proto: flow.TCP}
	tests := []struct {
		name, in string
		edits    Edits
		want     string
	}{
		{"a broken file is not rewritten", "exclude: [\n", Edits{}, "o.yaml:1: "},
		{"the API server has no name", "", Edits{Exclude: []topology.Edge{apiserver}}, "apiserver: no override can name this end"},
		{"a bad peer", "", Edits{Allow: []AllowEdit{{Workload: apiserver.Src.Workload, Peer: "Not_A_Peer"}}}, `allow: peer "Not_A_Peer"`},
		{"bad ports", "", Edits{Allow: []AllowEdit{{Workload: apiserver.Src.Workload, Peer: "10.0.0.0/8", Ports: []string{"99999"}}}}, `ports "99999"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Rewrite([]byte(tt.in), "o.yaml", tt.edits)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}
