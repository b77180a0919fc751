package rules

import (
	"fmt"
	"net/netip"
	"os"

	"sigs.k8s.io/yaml"
)

// Marshal writes a set as YAML.
func Marshal(s *Set) ([]byte, error) {
	b, err := yaml.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("marshal rules: %w", err)
	}
	return b, nil
}

// Load reads a set written by Marshal. Unknown fields, a wrong kind, and
// references to identities that do not exist are errors naming the file.
func Load(path string) (*Set, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Set
	if err := yaml.UnmarshalStrict(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

func (s *Set) validate() error {
	if s.APIVersion != APIVersion || s.Kind != Kind {
		return fmt.Errorf("apiVersion %q kind %q: want %s %s", s.APIVersion, s.Kind, APIVersion, Kind)
	}
	for i, id := range s.Identities {
		if id.ID != i+1 {
			return fmt.Errorf("identities[%d]: id %d, want %d", i, id.ID, i+1)
		}
	}
	known := func(id int) bool { return id >= 1 && id <= len(s.Identities) }
	for i, iso := range s.Isolation {
		if !known(iso.Identity) || (iso.Direction != Ingress && iso.Direction != Egress) {
			return fmt.Errorf("isolation[%d]: unknown identity %d or direction %q", i, iso.Identity, iso.Direction)
		}
	}
	for i, r := range s.Rules {
		if r.ID != i+1 {
			return fmt.Errorf("rules[%d]: id %d, want %d", i, r.ID, i+1)
		}
		if err := r.validate(known); err != nil {
			return fmt.Errorf("rules[%d] (id %d): %w", i, r.ID, err)
		}
	}
	return nil
}

func (r *Rule) validate(known func(int) bool) error {
	if !known(r.Subject) || (r.Direction != Ingress && r.Direction != Egress) {
		return fmt.Errorf("unknown subject %d or direction %q", r.Subject, r.Direction)
	}
	if r.Peer != nil {
		if r.Peer.CIDR == "" && !known(r.Peer.Identity) {
			return fmt.Errorf("peer: unknown identity %d", r.Peer.Identity)
		}
		for _, c := range append([]string{r.Peer.CIDR}, r.Peer.Except...) {
			if _, err := netip.ParsePrefix(c); c != "" && err != nil {
				return fmt.Errorf("peer: %w", err)
			}
		}
	}
	for _, p := range r.Ports {
		if protoNumber(p.Protocol) == 0 || p.Port < 0 || p.Port > 65535 || p.EndPort > 65535 || (p.EndPort != 0 && p.EndPort < p.Port) {
			return fmt.Errorf("port %+v: invalid", p)
		}
	}
	return nil
}
