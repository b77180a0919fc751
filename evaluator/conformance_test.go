package evaluator_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/network-policy-api/apis/v1beta1"
	"sigs.k8s.io/network-policy-api/conformance"
	"sigs.k8s.io/yaml"

	"github.com/flowpol/flowpol/evaluator"
)

type conformanceCase struct {
	file, manifest, name string
	mutations            []mutation
	probes               []conformanceProbe
}

// mutation is what a conformance subtest changes: two rules of a policy
// swapped (swap names the direction), a rule's action (rules names the
// direction), a policy's priority, or a NetworkPolicy deleted.
type mutation struct {
	policy              string
	swap, rules         string // Ingress or Egress
	a, b                int
	action              v1beta1.ClusterNetworkPolicyRuleAction
	priority            int32
	deleteNetworkPolicy string // namespace/name
}

type conformanceProbe struct {
	from, to string // namespace/pod
	proto    corev1.Protocol
	port     uint16
	allowed  bool
}

// conformanceWorld is the upstream conformance cluster: its namespaces,
// the pods of its StatefulSets, and a manifest's policies.
type conformanceWorld struct {
	namespaces map[string]map[string]string
	pods       map[string]*evaluator.Pod
	policies   []networkingv1.NetworkPolicy
	cluster    []v1beta1.ClusterNetworkPolicy
}

// TestConformanceScenarios decides every probe of the upstream
// ClusterNetworkPolicy conformance tests, on the upstream manifests, as
// the tests expect: a failure is this package deciding a tier, a priority,
// a rule order, an action or a port as no conformant implementation may.
func TestConformanceScenarios(t *testing.T) {
	if len(conformanceCases) < 60 {
		t.Fatalf("%d conformance cases: the transcription is missing", len(conformanceCases))
	}
	var probes, denied int
	for _, c := range conformanceCases {
		t.Run(strings.TrimSuffix(c.file, ".go")+"/"+c.name, func(t *testing.T) {
			w := loadConformance(t, "base/manifests.yaml", c.manifest)
			for _, m := range c.mutations {
				m.apply(t, w)
			}
			e, err := evaluator.NewTiered(w.namespaces, w.policies, w.cluster)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range c.probes {
				src, dst := w.pod(t, p.from), w.pod(t, p.to)
				v := e.Check(evaluator.Peer{Pod: src}, evaluator.Peer{Pod: dst}, p.port, p.proto)
				if v.Allowed != p.allowed {
					t.Errorf("%s -> %s on %d/%s: allowed=%t, upstream expects %t (%s)", p.from, p.to, p.port, p.proto, v.Allowed, p.allowed, v.Reason)
				}
				probes++
				if !p.allowed {
					denied++
				}
			}
		})
	}
	// The scenarios test denial as much as acceptance.
	if denied < probes/4 || denied > probes*3/4 {
		t.Errorf("%d of %d probes expect a denial: the transcription lost one kind", denied, probes)
	}
}

func (m mutation) apply(tb testing.TB, w *conformanceWorld) {
	tb.Helper()
	if m.deleteNetworkPolicy != "" {
		n := len(w.policies)
		w.policies = slices.DeleteFunc(w.policies, func(p networkingv1.NetworkPolicy) bool { return p.Namespace+"/"+p.Name == m.deleteNetworkPolicy })
		if len(w.policies) == n {
			tb.Fatalf("delete %s: no such NetworkPolicy", m.deleteNetworkPolicy)
		}
		return
	}
	ps := w.cluster
	for i := range ps {
		if ps[i].Name != m.policy {
			continue
		}
		s := &ps[i].Spec
		switch {
		case m.action != "" && m.rules == "Ingress":
			s.Ingress[m.a].Action = m.action
		case m.action != "":
			s.Egress[m.a].Action = m.action
		case m.swap == "Ingress":
			s.Ingress[m.a], s.Ingress[m.b] = s.Ingress[m.b], s.Ingress[m.a]
		case m.swap == "Egress":
			s.Egress[m.a], s.Egress[m.b] = s.Egress[m.b], s.Egress[m.a]
		default:
			s.Priority = m.priority
		}
		return
	}
	tb.Fatalf("mutation of %s: no such policy", m.policy)
}

func (w *conformanceWorld) pod(tb testing.TB, name string) *evaluator.Pod {
	tb.Helper()
	p, ok := w.pods[name]
	if !ok {
		tb.Fatalf("no pod %s in the conformance manifests", name)
	}
	return p
}

// loadConformance reads manifests from the network-policy-api module's
// conformance files.
func loadConformance(tb testing.TB, names ...string) *conformanceWorld {
	tb.Helper()
	w := &conformanceWorld{namespaces: map[string]map[string]string{}, pods: map[string]*evaluator.Pod{}}
	for _, name := range names {
		data, err := fs.ReadFile(conformance.Manifests, name)
		if err != nil {
			tb.Fatal(err)
		}
		for i, doc := range bytes.Split(data, []byte("\n---")) {
			if bytes.Contains(doc, []byte("{{")) {
				continue // the templated hostNetwork workloads, which no probe here uses
			}
			if err := w.add(doc); err != nil {
				tb.Fatalf("%s document %d: %v", name, i, err)
			}
		}
	}
	return w
}

func (w *conformanceWorld) add(doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	switch tm.Kind {
	case "":
		return nil
	case "Namespace":
		var ns corev1.Namespace
		if err := yaml.UnmarshalStrict(doc, &ns); err != nil {
			return err
		}
		w.namespaces[ns.Name] = ns.Labels
	case "StatefulSet":
		var ss appsv1.StatefulSet
		if err := yaml.UnmarshalStrict(doc, &ss); err != nil {
			return err
		}
		w.addPods(&ss)
	case "NetworkPolicy":
		var np networkingv1.NetworkPolicy
		if err := yaml.UnmarshalStrict(doc, &np); err != nil {
			return err
		}
		w.policies = append(w.policies, np)
	case "ClusterNetworkPolicy":
		var p v1beta1.ClusterNetworkPolicy
		if err := yaml.UnmarshalStrict(doc, &p); err != nil {
			return err
		}
		w.cluster = append(w.cluster, p)
	default:
		return fmt.Errorf("kind %s: not one the scenarios use", tm.Kind)
	}
	return nil
}

// addPods adds a StatefulSet's pods, labelled as the StatefulSet
// controller labels them.
func (w *conformanceWorld) addPods(ss *appsv1.StatefulSet) {
	var ports []corev1.ContainerPort
	for _, c := range ss.Spec.Template.Spec.Containers {
		ports = append(ports, c.Ports...)
	}
	for i := range *ss.Spec.Replicas {
		name := fmt.Sprintf("%s-%d", ss.Name, i)
		l := map[string]string{appsv1.StatefulSetPodNameLabel: name, appsv1.PodIndexLabel: fmt.Sprint(i)}
		for k, v := range ss.Spec.Template.Labels {
			l[k] = v
		}
		w.pods[ss.Namespace+"/"+name] = &evaluator.Pod{Namespace: ss.Namespace, Name: name, Labels: l, Ports: ports}
	}
}
