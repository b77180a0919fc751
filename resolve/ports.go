package resolve

import "github.com/flowpol/flowpol/flow"

// ServicePort is where a Service port leads, laid out for placing flows:
// one target with no pod or node, as a Service's backends are, is held
// in the value itself too, so that a flow to it reads no other memory.
type ServicePort struct {
	Port  uint16
	Proto flow.Proto
	// Unknown says a target is an unknown address in a cluster range: a
	// newer cluster state may know it.
	Unknown bool
	single  bool // targets is one target: end, on port target
	target  uint16
	end     EndID
	targets []Target
}

// NewServicePort returns the port's value; it keeps ts.
func NewServicePort(port uint16, proto flow.Proto, ts []Target, unknown bool) ServicePort {
	sp := ServicePort{Port: port, Proto: proto, Unknown: unknown, targets: ts}
	if len(ts) == 1 && ts[0].Pod == 0 && ts[0].Node == "" {
		sp.single, sp.end, sp.target = true, ts[0].End, ts[0].Port
	}
	return sp
}

// AppendTargets appends the port's targets to ts.
func (sp *ServicePort) AppendTargets(ts []Target) []Target {
	if sp.single {
		return append(ts, Target{End: sp.end, Port: sp.target})
	}
	return append(ts, sp.targets...)
}

// ServicePorts are the Service ports of an address. The first is held in
// the value itself too: most Services have one.
type ServicePorts struct {
	first ServicePort
	all   []ServicePort
}

// Add adds a port.
func (s *ServicePorts) Add(sp ServicePort) {
	if len(s.all) == 0 {
		s.first = sp
	}
	s.all = append(s.all, sp)
}

// Find returns the port of that number and protocol, nil when there is
// none.
func (s *ServicePorts) Find(port uint16, proto flow.Proto) *ServicePort {
	if len(s.all) > 0 && s.first.Port == port && s.first.Proto == proto {
		return &s.first
	}
	for i := range s.all {
		if sp := &s.all[i]; sp.Port == port && sp.Proto == proto {
			return sp
		}
	}
	return nil
}
