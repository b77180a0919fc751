package evaluator_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/flowpol/flowpol/evaluator"
	"github.com/flowpol/flowpol/internal/npguard"
)

// The tiers against the independent engine: netpol-analyzer implements
// the tiers as AdminNetworkPolicy and BaselineAdminNetworkPolicy
// (policy.networking.k8s.io v1alpha1), which ClusterNetworkPolicy's Admin
// and Baseline tiers replace with the same semantics. Every conformance
// scenario's policies, after its mutations, are given to both, translated
// field by field (Accept is Allow; a protocol without a port is its ports
// 1-65535), and both must agree on every ordered pair of the conformance
// pods on every port the pods serve, not only on the probes upstream
// makes. A scenario with more than one Baseline policy has no
// BaselineAdminNetworkPolicy form (there is one, named default); none of
// the transcribed ones has.
//
// Where netpol-analyzer itself contradicts the upstream expectation on
// one of upstream's own probes, the policy set is left out, and said so:
// upstream is the definition, and this package is held to it by
// TestConformanceScenarios. netpol-analyzer v1.4.4 does so once: in
// CNPAdminTierPriorityField after the Pass policy's priority is raised
// above the Deny's, it still denies, where upstream expects the Pass to
// hand the connection to the Baseline tier's Accept. More than that one
// fails the test, so a new deviation is looked at, not skipped.
func TestDifferentialClusterTiers(t *testing.T) {
	a := npguard.Start(t)
	ports := []struct {
		proto corev1.Protocol
		port  uint16
	}{{corev1.ProtocolTCP, 80}, {corev1.ProtocolTCP, 8080}, {corev1.ProtocolUDP, 53}, {corev1.ProtocolUDP, 5353}, {corev1.ProtocolSCTP, 9003}, {corev1.ProtocolSCTP, 9005}}
	seen := map[string]bool{}
	var states, probes, allowed int
	var leftOut []string
	for _, c := range conformanceCases {
		w := loadConformance(t, "base/manifests.yaml", c.manifest)
		for _, m := range c.mutations {
			m.apply(t, w)
		}
		key, err := json.Marshal([]any{w.policies, w.cluster})
		if err != nil {
			t.Fatal(err)
		}
		if seen[string(key)] {
			continue
		}
		seen[string(key)] = true
		states++
		ours, err := evaluator.NewTiered(w.namespaces, w.policies, w.cluster)
		if err != nil {
			t.Fatal(err)
		}
		theirs := theirTieredEngine(t, a, w)
		if wrong := contradictsUpstream(t, theirs, c); wrong != "" {
			leftOut = append(leftOut, fmt.Sprintf("%s, %s: %s", c.file, c.name, wrong))
			if err := theirs.Close(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		names := sortedKeys(w.pods)
		for _, src := range names {
			for _, dst := range names {
				for _, pp := range ports {
					got, err := theirs.CheckIfAllowed(src, dst, string(pp.proto), strconv.Itoa(int(pp.port)))
					if err != nil {
						t.Fatalf("%s: netpol-analyzer on %s -> %s %d/%s: %v", c.manifest, src, dst, pp.port, pp.proto, err)
					}
					v := ours.Check(evaluator.Peer{Pod: w.pods[src]}, evaluator.Peer{Pod: w.pods[dst]}, pp.port, pp.proto)
					if v.Allowed != got {
						t.Errorf("%s, %s (after %d mutations): %s -> %s on %d/%s: flowpol allowed=%t, netpol-analyzer %t (%s)",
							c.file, c.name, len(c.mutations), src, dst, pp.port, pp.proto, v.Allowed, got, v.Reason)
					}
					probes++
					if got {
						allowed++
					}
				}
			}
		}
		if err := theirs.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d policy sets, %d probes, %d allowed; left out, netpol-analyzer contradicting upstream:\n%s", states, probes, allowed, strings.Join(leftOut, "\n"))
	if len(leftOut) > 1 {
		t.Errorf("netpol-analyzer contradicts upstream on %d policy sets, where one is known", len(leftOut))
	}
	// Most pairs match no rule; the denials are what the tiers decide.
	if probes-allowed < 1000 || allowed < 1000 {
		t.Errorf("%d of %d probes allowed: the comparison exercises too little of the tiers", allowed, probes)
	}
}

// contradictsUpstream is the first of a case's upstream probes on which
// netpol-analyzer's verdict is not upstream's, or "".
func contradictsUpstream(tb testing.TB, theirs *npguard.Engine, c conformanceCase) string {
	tb.Helper()
	for _, p := range c.probes {
		got, err := theirs.CheckIfAllowed(p.from, p.to, string(p.proto), strconv.Itoa(int(p.port)))
		if err != nil {
			tb.Fatal(err)
		}
		if got != p.allowed {
			return fmt.Sprintf("%s -> %s on %d/%s: netpol-analyzer allowed=%t, upstream expects %t", p.from, p.to, p.port, p.proto, got, p.allowed)
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// theirTieredEngine loads a conformance world into netpol-analyzer.
func theirTieredEngine(tb testing.TB, a *npguard.Analyzer, w *conformanceWorld) *npguard.Engine {
	tb.Helper()
	pe, err := a.NewEngine()
	if err != nil {
		tb.Fatal(err)
	}
	var objs []runtime.Object
	for _, ns := range sortedKeys(w.namespaces) {
		l := map[string]string{corev1.LabelMetadataName: ns}
		for k, v := range w.namespaces[ns] {
			l[k] = v
		}
		objs = append(objs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: l}})
	}
	for i, name := range sortedKeys(w.pods) {
		p := w.pods[name]
		objs = append(objs, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Ports: p.Ports}}},
			Status:     corev1.PodStatus{HostIP: hostIP, PodIPs: []corev1.PodIP{{IP: fmt.Sprintf("10.99.0.%d", i+1)}}},
		})
	}
	for i := range w.policies {
		objs = append(objs, w.policies[i].DeepCopy())
	}
	baselines := 0
	for i := range w.cluster {
		if w.cluster[i].Spec.Tier == v1beta1.BaselineTier {
			baselines++
		}
		objs = append(objs, tieredPolicy(tb, &w.cluster[i]))
	}
	if baselines > 1 {
		tb.Fatalf("%d Baseline policies: netpol-analyzer has one BaselineAdminNetworkPolicy", baselines)
	}
	for _, o := range objs {
		if err := pe.InsertObject(o); err != nil {
			tb.Fatalf("insert %T into netpol-analyzer: %v", o, err)
		}
	}
	return pe
}

// tieredPolicy is a ClusterNetworkPolicy as an AdminNetworkPolicy (the
// Admin tier) or the BaselineAdminNetworkPolicy (the Baseline tier).
func tieredPolicy(tb testing.TB, p *v1beta1.ClusterNetworkPolicy) *unstructured.Unstructured {
	tb.Helper()
	spec := map[string]any{"subject": toMap(tb, p.Spec.Subject)}
	kind, name := "AdminNetworkPolicy", p.Name
	if p.Spec.Tier == v1beta1.BaselineTier {
		kind, name = "BaselineAdminNetworkPolicy", "default"
	} else {
		spec["priority"] = int64(p.Spec.Priority)
	}
	var ingress, egress []any
	for _, r := range p.Spec.Ingress {
		ingress = append(ingress, tieredRule(tb, r.Name, r.Action, "from", r.From, r.Protocols))
	}
	for _, r := range p.Spec.Egress {
		egress = append(egress, tieredRule(tb, r.Name, r.Action, "to", r.To, r.Protocols))
	}
	if ingress != nil {
		spec["ingress"] = ingress
	}
	if egress != nil {
		spec["egress"] = egress
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": kind,
		"metadata": map[string]any{"name": name}, "spec": spec,
	}}
}

func tieredRule(tb testing.TB, name string, action v1beta1.ClusterNetworkPolicyRuleAction, peersKey string, peers any, protocols []v1beta1.ClusterNetworkPolicyProtocol) map[string]any {
	tb.Helper()
	act := string(action)
	if action == v1beta1.ClusterNetworkPolicyRuleActionAccept {
		act = "Allow"
	}
	r := map[string]any{"name": name, "action": act, peersKey: toMap(tb, peers)}
	if len(protocols) > 0 {
		var ports []any
		for _, pr := range protocols {
			ports = append(ports, tieredPort(pr))
		}
		r["ports"] = ports
	}
	return r
}

func tieredPort(pr v1beta1.ClusterNetworkPolicyProtocol) map[string]any {
	if pr.DestinationNamedPort != "" {
		return map[string]any{"namedPort": pr.DestinationNamedPort}
	}
	proto, dp := "TCP", (*v1beta1.Port)(nil)
	switch {
	case pr.TCP != nil:
		dp = pr.TCP.DestinationPort
	case pr.UDP != nil:
		proto, dp = "UDP", pr.UDP.DestinationPort
	case pr.SCTP != nil:
		proto, dp = "SCTP", pr.SCTP.DestinationPort
	}
	switch {
	case dp == nil:
		return map[string]any{"portRange": map[string]any{"protocol": proto, "start": int64(1), "end": int64(65535)}}
	case dp.Range != nil:
		return map[string]any{"portRange": map[string]any{"protocol": proto, "start": int64(dp.Range.Start), "end": int64(dp.Range.End)}}
	}
	return map[string]any{"portNumber": map[string]any{"protocol": proto, "port": int64(dp.Number)}}
}

// toMap is a value as the JSON object (or list) it marshals to: the
// subjects and peers of the two APIs are spelled alike.
func toMap(tb testing.TB, v any) any {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		tb.Fatal(err)
	}
	return out
}
