package overrides

import (
	"strings"
	"testing"
)

const good = `# reviewed by the platform team
skipNamespaces: [kube-system, monitoring]
skipWorkloads: [shop/Deployment/legacy]
exclude:
  - from: shop/Deployment/frontend
    to: shop/Deployment/legacy-session
  - to: 203.0.113.0/24
    ports: ["443/TCP"]
allow:
  - workload: shop/Deployment/api
    egressTo: 10.20.0.0/16
    ports: ["8000-8100/TCP", "53/UDP"]
  - workload: data/StatefulSet/postgres
    ingressFrom: analytics
externals:
  widen: [198.51.100.0/24]
  collapseAbove: 10
selectors:
  shop/Deployment/api: {app: api, track: stable}
`

func TestParse(t *testing.T) {
	s, err := Parse(strings.NewReader(good), "overrides.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.SkipNamespaces) != 2 || len(s.SkipWorkloads) != 1 || len(s.Exclude) != 2 || len(s.Allow) != 2 ||
		len(s.Widen) != 1 || s.CollapseAbove != 10 || len(s.Selectors) != 1 {
		t.Fatalf("parsed %+v", s)
	}
	if a := s.Allow[0]; a.Ingress || a.Peer.Prefix.String() != "10.20.0.0/16" || a.Ports[0].String() != "8000-8100/TCP" || a.Line != 10 {
		t.Errorf("allow[0] %+v", a)
	}
	if a := s.Allow[1]; !a.Ingress || a.Peer.Namespace != "analytics" || a.Line != 13 {
		t.Errorf("allow[1] %+v", a)
	}
	if e := s.Exclude[1]; e.From != nil || e.To.Prefix.String() != "203.0.113.0/24" || e.Line != 7 {
		t.Errorf("exclude[1] %+v", e)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"unknown key", "skipNamespace: [a]\n", "overrides.yaml:1: field skipNamespace not found"},
		{"unknown key in an entry", "exclude:\n  - from: a\n    too: b\n", "overrides.yaml:2: field too not found"},
		{"bad cidr", "externals:\n  widen: [10.0.0.0/40]\n", `overrides.yaml:2: widen: "10.0.0.0/40" is not a CIDR`},
		{"bad peer", "exclude:\n  - from: Not_A/Name\n", `overrides.yaml:2: exclude: workload "Not_A/Name": want namespace/Kind/name`},
		{"bad cidr in exclude.to", "exclude:\n  - to: 10.0.0.0/33\n", `overrides.yaml:2: exclude: peer "10.0.0.0/33": not a CIDR (address/bits): prefix length out of range`},
		{"bad address in a cidr", "allow:\n  - workload: a/Deployment/b\n    egressTo: 10.0.0.300/24\n", `overrides.yaml:2: allow: peer "10.0.0.300/24": not a CIDR (address/bits): ParseAddr("10.0.0.300"): IPv4 field has value >255`},
		{"bad namespace", "exclude:\n  - to: Bad_NS\n", `overrides.yaml:2: exclude: peer "Bad_NS": not a workload`},
		{"bad ports", "allow:\n  - workload: a/Deployment/b\n    egressTo: 10.0.0.0/8\n    ports: [\"9-1/TCP\"]\n", `overrides.yaml:2: ports "9-1/TCP"`},
		{"bad proto", "allow:\n  - workload: a/Deployment/b\n    egressTo: 10.0.0.0/8\n    ports: [\"9/ICMP\"]\n", `overrides.yaml:2: ports "9/ICMP": unknown protocol`},
		{"both directions", "allow:\n  - workload: a/Deployment/b\n    egressTo: x\n    ingressFrom: y\n", "overrides.yaml:2: allow: needs one of ingressFrom or egressTo"},
		{"bad selector", "selectors:\n  a/Deployment/b: {\"bad key!\": x}\n", `overrides.yaml:2: selectors: a/Deployment/b: label key "bad key!"`},
		{"empty selector", "selectors:\n  a/Deployment/b: {}\n", "overrides.yaml:2: selectors: a/Deployment/b: want a map of at least one label"},
		{"empty exclude", "exclude:\n  - ports: [\"80\"]\n", "overrides.yaml:2: exclude: needs from, to, or both"},
		{"not yaml", "exclude: [\n", "overrides.yaml:1: did not find expected node content"},
		{"bad indentation", "exclude:\n  - from: a\n    to: b\n   ports: [80]\n", "overrides.yaml:4: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.in), "overrides.yaml")
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to start with %q", err, tt.want)
			}
		})
	}
}
