package rules

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/flowpol/flowpol/evaluator"
)

// APIVersion and Kind head a Set written as YAML.
const (
	APIVersion = "flowpol.io/v1alpha1"
	Kind       = "EnforcerRules"
)

// Direction is the side of a pod a rule governs.
type Direction string

// The two directions.
const (
	Ingress Direction = "Ingress"
	Egress  Direction = "Egress"
)

// Set is a compiled policy set.
type Set struct {
	APIVersion string      `json:"apiVersion"`
	Kind       string      `json:"kind"`
	Identities []Identity  `json:"identities"`
	Isolation  []Isolation `json:"isolation"`
	Rules      []Rule      `json:"rules"`
}

// Identity is a set of pods: those of Namespace, or of the namespaces
// NamespaceSelector selects, that PodSelector selects (nil: all of them).
type Identity struct {
	ID                int                   `json:"id"`
	Namespace         string                `json:"namespace,omitempty"`
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`
	PodSelector       *metav1.LabelSelector `json:"podSelector,omitempty"`
}

// Isolation says a policy isolates an identity's pods for a direction.
type Isolation struct {
	Identity  int       `json:"identity"`
	Direction Direction `json:"direction"`
	Policy    string    `json:"policy"`
}

// Rule allows traffic between a subject identity's pods and a peer, in one
// direction, on some ports.
type Rule struct {
	ID        int       `json:"id"`
	Policy    string    `json:"policy"`
	Direction Direction `json:"direction"`
	// Index is the rule's place in the policy's ingress or egress list.
	Index   int   `json:"index"`
	Subject int   `json:"subject"`
	Peer    *Peer `json:"peer,omitempty"` // nil: every peer
	// Ports empty: every port of every protocol.
	Ports []Port `json:"ports,omitempty"`
}

// Peer is an identity, or a CIDR less its exceptions.
type Peer struct {
	Identity int      `json:"identity,omitempty"`
	CIDR     string   `json:"cidr,omitempty"`
	Except   []string `json:"except,omitempty"`
}

// Port is a protocol with a port, a range (Port to EndPort), a named port
// (resolved on the destination pod), or none (every port).
type Port struct {
	Protocol corev1.Protocol `json:"protocol"`
	Port     int32           `json:"port,omitempty"`
	EndPort  int32           `json:"endPort,omitempty"`
	Name     string          `json:"name,omitempty"`
}

// Compile compiles policies, in the order given; an invalid selector, CIDR
// or port is an error naming the policy.
func Compile(policies []networkingv1.NetworkPolicy) (*Set, error) {
	c := &compiler{set: &Set{APIVersion: APIVersion, Kind: Kind}, ids: map[string]int{}}
	for i := range policies {
		if err := c.policy(&policies[i]); err != nil {
			return nil, fmt.Errorf("policy %s/%s: %w", namespaceOf(&policies[i]), policies[i].Name, err)
		}
	}
	return c.set, nil
}

type compiler struct {
	set *Set
	ids map[string]int // canonical identity → id
}

func namespaceOf(np *networkingv1.NetworkPolicy) string {
	if np.Namespace == "" {
		return metav1.NamespaceDefault
	}
	return np.Namespace
}

func (c *compiler) policy(np *networkingv1.NetworkPolicy) error {
	ns := namespaceOf(np)
	if _, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector); err != nil {
		return fmt.Errorf("podSelector: %w", err)
	}
	subject := c.identity(Identity{Namespace: ns, PodSelector: &np.Spec.PodSelector})
	name := ns + "/" + np.Name
	ingress, egress := evaluator.PolicyTypes(np)
	var ing, eg []ruleSpec
	for _, r := range np.Spec.Ingress {
		ing = append(ing, ruleSpec{r.From, r.Ports})
	}
	for _, r := range np.Spec.Egress {
		eg = append(eg, ruleSpec{r.To, r.Ports})
	}
	for _, d := range []struct {
		dir   Direction
		on    bool
		rules []ruleSpec
	}{{Ingress, ingress, ing}, {Egress, egress, eg}} {
		if !d.on {
			continue // its rules do not apply: it does not isolate
		}
		c.set.Isolation = append(c.set.Isolation, Isolation{Identity: subject, Direction: d.dir, Policy: name})
		for i, r := range d.rules {
			if err := c.rule(name, ns, d.dir, i, subject, r.peers, r.ports); err != nil {
				return fmt.Errorf("%s[%d]: %w", strings.ToLower(string(d.dir)), i, err)
			}
		}
	}
	return nil
}

// ruleSpec is an ingress or egress rule.
type ruleSpec struct {
	peers []networkingv1.NetworkPolicyPeer
	ports []networkingv1.NetworkPolicyPort
}

func (c *compiler) rule(policy, ns string, dir Direction, index, subject int, peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort) error {
	cp, err := compilePorts(ports)
	if err != nil {
		return err
	}
	add := func(p *Peer) {
		c.set.Rules = append(c.set.Rules, Rule{ID: len(c.set.Rules) + 1, Policy: policy, Direction: dir, Index: index, Subject: subject, Peer: p, Ports: cp})
	}
	if len(peers) == 0 {
		add(nil)
		return nil
	}
	for j, pr := range peers {
		p, err := c.peer(ns, pr)
		if err != nil {
			return fmt.Errorf("peer %d: %w", j, err)
		}
		add(p)
	}
	return nil
}

func (c *compiler) peer(ns string, pr networkingv1.NetworkPolicyPeer) (*Peer, error) {
	if pr.IPBlock != nil {
		return compileBlock(pr.IPBlock)
	}
	for _, s := range []*metav1.LabelSelector{pr.PodSelector, pr.NamespaceSelector} {
		if s == nil {
			continue
		}
		if _, err := metav1.LabelSelectorAsSelector(s); err != nil {
			return nil, fmt.Errorf("selector: %w", err)
		}
	}
	id := Identity{PodSelector: pr.PodSelector}
	if pr.NamespaceSelector != nil {
		id.NamespaceSelector = pr.NamespaceSelector
	} else {
		id.Namespace = ns
	}
	return &Peer{Identity: c.identity(id)}, nil
}

func compileBlock(b *networkingv1.IPBlock) (*Peer, error) {
	cidr, err := netip.ParsePrefix(b.CIDR)
	if err != nil {
		return nil, fmt.Errorf("ipBlock cidr %q: %w", b.CIDR, err)
	}
	p := &Peer{CIDR: cidr.Masked().String()}
	for _, ex := range b.Except {
		e, err := netip.ParsePrefix(ex)
		if err != nil {
			return nil, fmt.Errorf("ipBlock except %q: %w", ex, err)
		}
		p.Except = append(p.Except, e.Masked().String())
	}
	return p, nil
}

func compilePorts(ports []networkingv1.NetworkPolicyPort) ([]Port, error) {
	var out []Port
	for i, p := range ports {
		cp := Port{Protocol: corev1.ProtocolTCP}
		if p.Protocol != nil {
			cp.Protocol = *p.Protocol
		}
		switch {
		case p.Port == nil:
		case p.Port.Type == intstr.String:
			cp.Name = p.Port.StrVal
		default:
			cp.Port = p.Port.IntVal
			if p.EndPort != nil {
				cp.EndPort = *p.EndPort
			}
		}
		if cp.Port < 0 || cp.Port > 65535 || cp.EndPort > 65535 || (cp.EndPort != 0 && cp.EndPort < cp.Port) {
			return nil, fmt.Errorf("ports[%d]: port %d, endPort %d: out of range", i, cp.Port, cp.EndPort)
		}
		out = append(out, cp)
	}
	return out, nil
}

// identity returns the id of an identity, adding it when new.
func (c *compiler) identity(id Identity) int {
	key := canonical(id)
	if n, ok := c.ids[key]; ok {
		return n
	}
	id.ID = len(c.set.Identities) + 1
	c.ids[key] = id.ID
	c.set.Identities = append(c.set.Identities, id)
	return id.ID
}

// canonical is an identity's selectors in a form equal selectors share.
func canonical(id Identity) string {
	var b strings.Builder
	b.WriteString(id.Namespace)
	for _, s := range []*metav1.LabelSelector{id.NamespaceSelector, id.PodSelector} {
		b.WriteByte('|')
		if s == nil {
			b.WriteString("nil")
			continue
		}
		sel, _ := metav1.LabelSelectorAsSelector(s) // validated by the caller
		j, _ := json.Marshal(sel.String())
		b.Write(j)
	}
	return b.String()
}
