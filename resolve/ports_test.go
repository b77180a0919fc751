package resolve

import (
	"slices"
	"testing"

	"github.com/flowpol/flowpol/flow"
)

// TestServicePorts: a port is found by number and protocol wherever it
// sits, and hands out exactly its targets, whether it holds a single one
// in the value or not. If it failed, a flow through a Service would reach
// the wrong backends, or lose a pod or node of its target.
func TestServicePorts(t *testing.T) {
	one := []Target{{End: 7, Port: 8080}}
	withPod := []Target{{End: 7, Port: 8080, Pod: 3, Node: "n1"}}
	several := []Target{{End: 7, Port: 8080}, {End: 9, Port: 9090}}
	var s ServicePorts
	s.Add(NewServicePort(80, flow.TCP, one, false))
	s.Add(NewServicePort(80, flow.UDP, withPod, false))
	s.Add(NewServicePort(443, flow.TCP, several, true))
	tests := []struct {
		name    string
		port    uint16
		proto   flow.Proto
		want    []Target
		unknown bool
	}{
		{"first, one target", 80, flow.TCP, one, false},
		{"same number, other protocol, a pod's target", 80, flow.UDP, withPod, false},
		{"several targets", 443, flow.TCP, several, true},
		{"no such port", 8443, flow.TCP, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := s.Find(tt.port, tt.proto)
			if tt.want == nil {
				if sp != nil {
					t.Fatalf("found %+v, want none", sp)
				}
				return
			}
			if sp == nil {
				t.Fatal("not found")
			}
			prefix := []Target{{End: 1}}
			if got := sp.AppendTargets(slices.Clone(prefix)); !slices.Equal(got, append(prefix, tt.want...)) || sp.Unknown != tt.unknown {
				t.Errorf("targets %+v, unknown %v; want %+v, %v", got, sp.Unknown, append(prefix, tt.want...), tt.unknown)
			}
		})
	}
	var empty ServicePorts
	if sp := empty.Find(0, 0); sp != nil {
		t.Errorf("no ports: found %+v", sp)
	}
}
