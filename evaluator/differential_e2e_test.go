package evaluator_test

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/flowpol/flowpol/internal/npguard"
	"github.com/flowpol/flowpol/internal/randnet"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// The upstream Kubernetes e2e network policy tests
// (test/e2e/network/netpol/network_policy.go) rebuilt as fixtures under
// testdata/e2e: namespaces x, y and z, pods a, b and c in each, every pod
// serving 80 and 81 over TCP, UDP and SCTP on ports named serve-80-tcp and
// so on. A fixture is a list of steps, each adding labels and creating,
// replacing or deleting policies as the upstream test does, then building
// both engines again. Every step compares the engines on every probe, and
// checks the upstream truth table written in the step's expect lines.

// e2ePorts are the probed ports: upstream's two, and DNS.
func e2ePorts() []uint16 { return []uint16{53, 80, 81} }

type e2eFixture struct {
	// About names the upstream test, and says where the fixture departs
	// from it.
	About string `json:"about"`
	// Addresses are probed as addresses outside the pods.
	Addresses []string  `json:"addresses,omitempty"`
	Steps     []e2eStep `json:"steps"`
}

type e2eStep struct {
	Name string `json:"name"`
	// NamespaceLabels and PodLabels ("x/a") are added to the labels.
	NamespaceLabels map[string]map[string]string `json:"namespaceLabels,omitempty"`
	PodLabels       map[string]map[string]string `json:"podLabels,omitempty"`
	// Policies are created, or replace the policy of the same name.
	Policies []networkingv1.NetworkPolicy `json:"policies,omitempty"`
	// DeletePolicies are "namespace/name".
	DeletePolicies []string `json:"deletePolicies,omitempty"`
	// Expect lines are "SRC -> DST PORT/PROTOCOL allow|deny", SRC and DST
	// a pod ("x/a"), a namespace's pods ("x/*"), every pod ("*") or an
	// address; later lines override earlier ones, as in upstream's
	// reachability tables, and a pod's connection to itself is not
	// checked, as upstream ignores loopback.
	Expect []string `json:"expect,omitempty"`
}

func TestDifferentialE2E(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "e2e", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("%d fixtures under testdata/e2e; the upstream scenarios are missing", len(files))
	}
	for i, f := range files {
		if files[i], err = filepath.Abs(f); err != nil {
			t.Fatal(err)
		}
	}
	a := npguard.Start(t)
	var checks, expected int
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			c, e := runE2E(t, a, loadE2E(t, f))
			checks += c
			expected += e
		})
	}
	t.Logf("%d fixtures: %d probes compared, %d checked against the fixtures' truth tables", len(files), checks, expected)
}

func loadE2E(tb testing.TB, path string) *e2eFixture {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var f e2eFixture
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	if f.About == "" || len(f.Steps) == 0 {
		tb.Fatalf("%s: a fixture needs about and steps", path)
	}
	return &f
}

// runE2E plays the fixture's steps and returns the number of probes
// compared and of probes checked against an expectation.
func runE2E(t *testing.T, a *npguard.Analyzer, f *e2eFixture) (checks, expected int) {
	w, err := e2eWorld(f.Addresses)
	if err != nil {
		t.Fatal(err)
	}
	for i, step := range f.Steps {
		if err := applyStep(w, step); err != nil {
			t.Fatalf("step %d (%s): %v", i, step.Name, err)
		}
		rs, err := compare(a, w, w, e2ePorts())
		if err != nil {
			t.Fatalf("step %d (%s): %v", i, step.Name, err)
		}
		reportDisagreements(t, fmt.Sprintf("step %d (%s)", i, step.Name), disagreements(rs))
		want, err := expectations(w, step.Expect)
		if err != nil {
			t.Fatalf("step %d (%s): %v", i, step.Name, err)
		}
		checkExpected(t, fmt.Sprintf("step %d (%s)", i, step.Name), rs, want)
		checks += len(rs)
		expected += len(want)
	}
	return checks, expected
}

// reportDisagreements fails for the first few disagreements and counts
// the rest.
func reportDisagreements(t *testing.T, step string, ds []result) {
	t.Helper()
	const shown = 10
	for i, d := range ds {
		if i == shown {
			t.Errorf("%s: and %d more disagreements", step, len(ds)-shown)
			return
		}
		t.Errorf("%s: %s", step, d)
	}
}

// checkExpected fails for each expected verdict either engine misses, and
// for an expectation no probe covers (a typo in a fixture).
func checkExpected(t *testing.T, step string, rs []result, want map[probe]bool) {
	t.Helper()
	seen := 0
	for _, r := range rs {
		w, ok := want[r.probe]
		if !ok {
			continue
		}
		seen++
		if r.ours != w {
			t.Errorf("%s: %s: flowpol says %s, the fixture expects %s %s", step, r.probe, word(r.ours), word(w), r.reason)
		}
		if r.theirs != w {
			t.Errorf("%s: %s: netpol-analyzer says %s, the fixture expects %s", step, r.probe, word(r.theirs), word(w))
		}
	}
	if seen != len(want) {
		t.Errorf("%s: %d expectations, only %d probed: a port or address outside the probes", step, len(want), seen)
	}
}

// e2eWorld is upstream's cluster: namespaces x, y, z labelled ns=<name>,
// pods a, b, c labelled pod=<name>, each serving 80 and 81 over TCP, UDP
// and SCTP. Pod x/a has address 10.0.1.1, y/b 10.0.2.2, and so on.
func e2eWorld(addrs []string) (*world, error) {
	w := &world{}
	for i, ns := range []string{"x", "y", "z"} {
		w.Namespaces = append(w.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name: ns, Labels: map[string]string{"ns": ns, corev1.LabelMetadataName: ns},
		}})
		for j, name := range []string{"a", "b", "c"} {
			w.Pods = append(w.Pods, e2ePod(ns, name, fmt.Sprintf("10.0.%d.%d", i+1, j+1)))
		}
	}
	for _, s := range addrs {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("address %q: %w", s, err)
		}
		if !a.Is4() || a.String() == hostIP {
			return nil, fmt.Errorf("address %s: probes are IPv4 and not the node's %s", a, hostIP)
		}
		w.Addrs = append(w.Addrs, a)
	}
	return w, nil
}

// e2ePod is an upstream server pod: one container per port and protocol,
// as upstream runs one agnhost server per port and protocol.
func e2ePod(ns, name, ip string) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"pod": name}},
		Status:     corev1.PodStatus{PodIPs: []corev1.PodIP{{IP: ip}}},
	}
	for _, port := range []int32{80, 81} {
		for _, proto := range randnet.Protocols() {
			suffix := fmt.Sprintf("%d-%s", port, strings.ToLower(string(proto)))
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{
				Name:  "cont-" + suffix,
				Ports: []corev1.ContainerPort{{Name: "serve-" + suffix, ContainerPort: port, Protocol: proto}},
			})
		}
	}
	return p
}

func applyStep(w *world, s e2eStep) error {
	for ns, l := range s.NamespaceLabels {
		i := slices.IndexFunc(w.Namespaces, func(n corev1.Namespace) bool { return n.Name == ns })
		if i < 0 {
			return fmt.Errorf("no namespace %s", ns)
		}
		for k, v := range l {
			w.Namespaces[i].Labels[k] = v
		}
	}
	for key, l := range s.PodLabels {
		i := slices.IndexFunc(w.Pods, func(p corev1.Pod) bool { return podKey(&p) == key })
		if i < 0 {
			return fmt.Errorf("no pod %s", key)
		}
		for k, v := range l {
			w.Pods[i].Labels[k] = v
		}
	}
	for _, np := range s.Policies {
		if np.Namespace == "" {
			return fmt.Errorf("policy %s has no namespace", np.Name)
		}
		key := np.Namespace + "/" + np.Name
		w.Policies = slices.DeleteFunc(w.Policies, func(p networkingv1.NetworkPolicy) bool { return p.Namespace+"/"+p.Name == key })
		w.Policies = append(w.Policies, np)
	}
	for _, key := range s.DeletePolicies {
		n := len(w.Policies)
		w.Policies = slices.DeleteFunc(w.Policies, func(p networkingv1.NetworkPolicy) bool { return p.Namespace+"/"+p.Name == key })
		if len(w.Policies) == n {
			return fmt.Errorf("no policy %s to delete", key)
		}
	}
	return nil
}

// expectations expands expect lines into the verdict expected per probe.
func expectations(w *world, lines []string) (map[probe]bool, error) {
	want := map[probe]bool{}
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) != 5 || f[1] != "->" || (f[4] != "allow" && f[4] != "deny") {
			return nil, fmt.Errorf("expect %q: want SRC -> DST PORT/PROTOCOL allow|deny", line)
		}
		port, proto, err := parsePortProto(f[3])
		if err != nil {
			return nil, fmt.Errorf("expect %q: %w", line, err)
		}
		srcs, dsts := endsOf(w, f[0]), endsOf(w, f[2])
		if len(srcs) == 0 || len(dsts) == 0 {
			return nil, fmt.Errorf("expect %q: matches no pod or address", line)
		}
		for _, s := range srcs {
			for _, d := range dsts {
				if s != d {
					want[probe{src: s, dst: d, port: port, proto: proto}] = f[4] == "allow"
				}
			}
		}
	}
	return want, nil
}

func parsePortProto(s string) (uint16, corev1.Protocol, error) {
	num, proto, ok := strings.Cut(s, "/")
	port, err := strconv.ParseUint(num, 10, 16)
	if !ok || err != nil || !slices.Contains(randnet.Protocols(), corev1.Protocol(proto)) {
		return 0, "", fmt.Errorf("%q is not PORT/TCP|UDP|SCTP", s)
	}
	return uint16(port), corev1.Protocol(proto), nil
}

// endsOf expands a pattern: "*", "x/*", "x/a", or an address probed in w.
func endsOf(w *world, pattern string) []string {
	var out []string
	for i := range w.Pods {
		key := podKey(&w.Pods[i])
		if pattern == "*" || pattern == key || pattern == w.Pods[i].Namespace+"/*" {
			out = append(out, key)
		}
	}
	for _, a := range w.Addrs {
		if a.String() == pattern {
			out = append(out, pattern)
		}
	}
	return out
}
