package generator

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// TestPolicyValueOnGoldens holds marshalYAML's NetworkPolicy path to the
// bytes sigs.k8s.io/yaml writes, and to marshalYAML's general path, on
// every NetworkPolicy of the golden files: a difference would change the
// files flowpol writes.
func TestPolicyValueOnGoldens(t *testing.T) {
	files, err := filepath.Glob("../testdata/*/*.golden.yaml")
	if err != nil {
		t.Fatal(err)
	}
	more, err := filepath.Glob("../testdata/*/*/*.golden.yaml")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, file := range append(files, more...) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range bytes.Split(data, []byte("\n---\n")) {
			if !bytes.Contains(doc, []byte("\nkind: NetworkPolicy\n")) {
				continue
			}
			var p networkingv1.NetworkPolicy
			if err := yaml.UnmarshalStrict(doc, &p); err != nil {
				t.Fatalf("%s: document %d: %v", file, i+1, err)
			}
			if _, ok := policyValue(&p); !ok {
				t.Errorf("%s: document %d: policyValue declined a generated policy", file, i+1)
			}
			assertMarshalsAsSigsYAML(t, &p)
			n++
		}
	}
	if n < 20 {
		t.Fatalf("found %d NetworkPolicies in the golden files: the globs are wrong", n)
	}
}

// TestPolicyValueOnRandomPolicies does the same on random policies: each
// field set or not, strings YAML would read as something else, keys in
// every order, and what the fast path leaves to the general one.
func TestPolicyValueOnRandomPolicies(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	fast := 0
	for range 3000 {
		p := randomPolicy(r)
		if _, ok := policyValue(p); ok {
			fast++
		}
		assertMarshalsAsSigsYAML(t, p)
	}
	if fast < 1000 {
		t.Fatalf("policyValue built %d of 3000 random policies: too few to test it", fast)
	}
}

// FuzzPolicyValue is TestPolicyValueOnRandomPolicies from fuzzed seeds.
func FuzzPolicyValue(f *testing.F) {
	f.Add(uint64(0), uint64(0))
	f.Add(uint64(7), uint64(1<<40))
	f.Fuzz(func(t *testing.T, a, b uint64) {
		assertMarshalsAsSigsYAML(t, randomPolicy(rand.New(rand.NewPCG(a, b))))
	})
}

// TestPolicyValueDeclines fails if policyValue builds a policy with
// metadata it leaves out, or a string JSON would have changed.
func TestPolicyValueDeclines(t *testing.T) {
	bad := intstr.IntOrString{Type: 7}
	tests := []struct {
		name string
		edit func(*networkingv1.NetworkPolicy)
	}{
		{name: "uid", edit: func(p *networkingv1.NetworkPolicy) { p.UID = types.UID("u") }},
		{name: "generation", edit: func(p *networkingv1.NetworkPolicy) { p.Generation = 2 }},
		{name: "creation time", edit: func(p *networkingv1.NetworkPolicy) { p.CreationTimestamp = metav1.Unix(1, 0) }},
		{name: "finalizer", edit: func(p *networkingv1.NetworkPolicy) { p.Finalizers = []string{"f"} }},
		{name: "invalid UTF-8 name", edit: func(p *networkingv1.NetworkPolicy) { p.Name = "a\xffb" }},
		{name: "invalid UTF-8 label key", edit: func(p *networkingv1.NetworkPolicy) { p.Labels = map[string]string{"\xff": "v"} }},
		{name: "untyped port", edit: func(p *networkingv1.NetworkPolicy) {
			p.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{{Port: &bad}}}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}}
			if _, ok := policyValue(p); !ok {
				t.Fatal("policyValue declined a plain policy")
			}
			tt.edit(p)
			if _, ok := policyValue(p); ok {
				t.Error("policyValue built it: its output would not be the general path's")
			}
		})
	}
}

// TestPolicyValueKnowsEveryField fails when a Kubernetes release adds a
// field to the types policyValue builds: it would leave the field out
// where JSON writes it. Teach policyValue the field (or decline policies
// that set it), then add it here.
func TestPolicyValueKnowsEveryField(t *testing.T) {
	tests := []struct {
		v    any
		json []string
	}{
		{networkingv1.NetworkPolicy{}, []string{"", "metadata", "spec"}},
		{metav1.TypeMeta{}, []string{"kind", "apiVersion"}},
		{metav1.ObjectMeta{}, []string{"name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
			"creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences",
			"finalizers", "managedFields"}},
		{networkingv1.NetworkPolicySpec{}, []string{"podSelector", "ingress", "egress", "policyTypes"}},
		{networkingv1.NetworkPolicyIngressRule{}, []string{"ports", "from"}},
		{networkingv1.NetworkPolicyEgressRule{}, []string{"ports", "to"}},
		{networkingv1.NetworkPolicyPort{}, []string{"protocol", "port", "endPort"}},
		{networkingv1.NetworkPolicyPeer{}, []string{"podSelector", "namespaceSelector", "ipBlock"}},
		{networkingv1.IPBlock{}, []string{"cidr", "except"}},
		{metav1.LabelSelector{}, []string{"matchLabels", "matchExpressions"}},
		{metav1.LabelSelectorRequirement{}, []string{"key", "operator", "values"}},
		{intstr.IntOrString{}, []string{"-", "-", "-"}}, // marshalled by its MarshalJSON
	}
	for _, tt := range tests {
		typ := reflect.TypeOf(tt.v)
		var got []string
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if typ == reflect.TypeOf(intstr.IntOrString{}) {
				name = "-"
			}
			got = append(got, name)
		}
		if !slices.Equal(got, tt.json) {
			t.Errorf("%s has the fields %q, where policyValue knows %q", typ, got, tt.json)
		}
	}
}

func assertMarshalsAsSigsYAML(t *testing.T, p *networkingv1.NetworkPolicy) {
	t.Helper()
	want, wantErr := yaml.Marshal(p)
	got, gotErr := marshalYAML(p)
	general, generalErr := marshalGeneric(p)
	if (gotErr != nil) != (wantErr != nil) || (generalErr != nil) != (wantErr != nil) {
		t.Fatalf("marshalYAML: %v, general path: %v, sigs.k8s.io/yaml: %v", gotErr, generalErr, wantErr)
	}
	if string(got) != string(want) {
		t.Fatalf("marshalYAML wrote\n%s\nwhere sigs.k8s.io/yaml writes\n%s", got, want)
	}
	if string(general) != string(want) {
		t.Fatalf("the general path wrote\n%s\nwhere sigs.k8s.io/yaml writes\n%s", general, want)
	}
}

// randomPolicy is a policy with each field set or not, from strings YAML
// and JSON treat specially.
func randomPolicy(r *rand.Rand) *networkingv1.NetworkPolicy {
	g := policyRand{r}
	p := &networkingv1.NetworkPolicy{
		TypeMeta: metav1.TypeMeta{APIVersion: g.str(), Kind: g.str()},
		ObjectMeta: metav1.ObjectMeta{Name: g.str(), Namespace: g.str(), Labels: g.labels(),
			Annotations: g.labels()},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: g.selector()},
	}
	if r.IntN(8) == 0 {
		p.GenerateName = g.str()
	}
	if r.IntN(8) == 0 {
		p.Generation = int64(r.IntN(3))
	}
	for range r.IntN(3) {
		p.Spec.PolicyTypes = append(p.Spec.PolicyTypes, networkingv1.PolicyType(g.str()))
	}
	for range r.IntN(3) {
		p.Spec.Ingress = append(p.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{Ports: g.ports(), From: g.peers()})
	}
	for range r.IntN(3) {
		p.Spec.Egress = append(p.Spec.Egress, networkingv1.NetworkPolicyEgressRule{Ports: g.ports(), To: g.peers()})
	}
	if g.maybe() && p.Spec.Ingress == nil {
		p.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{} // empty, not nil
	}
	return p
}

type policyRand struct{ r *rand.Rand }

var randomStrings = []string{"", "a", "api", "yes", "No", "on", "~", "null", "true", "1", "012", "0x10", "1.5", "1e3", "-7",
	".inf", "2026-11-22", "2026-11-22T10:00:00Z", "1:20", "a: b", "- a", "#c", "a #c", " lead", "trail ", "é", "日本",
	"a\nb", "a\n b\n", "\n", "tab\there", "quote\"s", "'single'", "back\\slash", "<&>", "\u2028", "\x01", "a\xffb",
	"flowpol.io/evidence", "app.kubernetes.io/name", "a10", "a9", "B", "10", "2", "%x", "@a", "`a", "!tag", "&anchor", "*alias",
	"{a}", "[a]", "a,b", "?", "|", ">", strings.Repeat("long words of evidence ", 12), "line 1\nline 2: x\n\nline 4"}

// randomKeys are the keys of the random label maps: keys YAML orders
// naturally ("a9" before "a10"), but none, like "1e3" with "2" and "10",
// on which its order is not one (2 < 10 < 1e3 < 2), where sigs.k8s.io/yaml
// writes them in the order the map gives them.
var randomKeys = []string{"", "a", "api", "a10", "a9", "B", "10", "2", "012", "x-y", "x_y", "x.y", "app.kubernetes.io/name",
	"flowpol.io/evidence", "flowpol.io/a10", "flowpol.io/a9", "k8s.io/1", "Z9", "z", "é", "yes", "null", "~"}

func (g policyRand) key() string { return randomKeys[g.r.IntN(len(randomKeys))] }

func (g policyRand) maybe() bool { return g.r.IntN(2) == 0 }

func (g policyRand) str() string { return randomStrings[g.r.IntN(len(randomStrings))] }

func (g policyRand) strs() []string {
	var ss []string
	for range g.r.IntN(3) {
		ss = append(ss, g.str())
	}
	return ss
}

func (g policyRand) labels() map[string]string {
	if g.r.IntN(4) == 0 {
		return nil
	}
	m := map[string]string{}
	for range g.r.IntN(6) {
		m[g.key()] = g.str()
	}
	return m
}

func (g policyRand) selector() metav1.LabelSelector {
	s := metav1.LabelSelector{MatchLabels: g.labels()}
	for range g.r.IntN(3) {
		s.MatchExpressions = append(s.MatchExpressions, metav1.LabelSelectorRequirement{
			Key: g.str(), Operator: metav1.LabelSelectorOperator(g.str()), Values: g.strs()})
	}
	return s
}

func (g policyRand) selectorPtr() *metav1.LabelSelector {
	if g.maybe() {
		return nil
	}
	s := g.selector()
	return &s
}

func (g policyRand) ports() []networkingv1.NetworkPolicyPort {
	var ports []networkingv1.NetworkPolicyPort
	for range g.r.IntN(3) {
		var p networkingv1.NetworkPolicyPort
		if g.maybe() {
			proto := corev1.Protocol(g.str())
			p.Protocol = &proto
		}
		switch g.r.IntN(3) {
		case 0:
			port := intstr.FromInt32(int32(g.r.Uint32()) >> g.r.IntN(32))
			p.Port = &port
		case 1:
			port := intstr.FromString(g.str())
			p.Port = &port
		}
		if g.maybe() {
			end := -int32(g.r.IntN(3)) + int32(g.r.Uint32()>>g.r.IntN(33))
			p.EndPort = &end
		}
		ports = append(ports, p)
	}
	return ports
}

func (g policyRand) peers() []networkingv1.NetworkPolicyPeer {
	var peers []networkingv1.NetworkPolicyPeer
	for range g.r.IntN(3) {
		peer := networkingv1.NetworkPolicyPeer{PodSelector: g.selectorPtr(), NamespaceSelector: g.selectorPtr()}
		if g.maybe() {
			peer.IPBlock = &networkingv1.IPBlock{CIDR: g.str(), Except: g.strs()}
		}
		peers = append(peers, peer)
	}
	return peers
}
