package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The guardrails as ClusterNetworkPolicies: the golden files are what a
// cluster admin would kubectl apply. In the metadata scenario one
// workload is seen reading the cloud metadata endpoint and is given it.
func TestGenerateClusterGolden(t *testing.T) {
	for _, dir := range []string{"example", "scenarios/metadata"} {
		t.Run(dir, func(t *testing.T) {
			db := learnScenario(t, dir)
			r := mustRun(t, "generate", "--db", db, "--until", "2026-11-22T12:00:00Z", "--format", "clusternetworkpolicy")
			golden(t, repoFile("testdata", dir, "clusternetworkpolicy.golden.yaml"), r.out)
			for _, want := range []string{"apiVersion: policy.networking.k8s.io/v1beta1", "tier: Admin", "tier: Baseline", "169.254.169.254/32", "fd00:ec2::254/128"} {
				if !strings.Contains(r.out, want) {
					t.Errorf("the output has no %q", want)
				}
			}
		})
	}
	db := learnScenario(t, "scenarios/metadata")
	r := mustRun(t, "generate", "--db", db, "--until", "2026-11-22T12:00:00Z", "--format", "clusternetworkpolicy")
	if !strings.Contains(r.out, "name: flowpol-metadata-accept.ops.flowpol-deployment-agent") || strings.Contains(r.out, "flowpol-deployment-web\n") {
		t.Errorf("the accept is not agent's alone:\n%s", r.out)
	}
}

// check and diff read a mixed set: the NetworkPolicies generate wrote and,
// in a subdirectory, the guardrails. The guardrails deny nothing that was
// observed; an Admin deny added beside them does, and check names it; diff
// --format clusternetworkpolicy finds the guardrails as generated, and a
// priority edited by hand.
func TestCheckAndDiffMixedSet(t *testing.T) {
	db := learnScenario(t, "example")
	until := "2026-11-22T12:00:00Z"
	dir := t.TempDir()
	cluster := filepath.Join(dir, "cluster")
	mustRun(t, "generate", "--db", db, "--until", until, "-o", dir)
	mustRun(t, "generate", "--db", db, "--until", until, "--format", "clusternetworkpolicy", "-o", cluster)
	if r := run(t, "", "check", "--db", db, "--until", until, "--policies", dir); r.code != 0 || !strings.Contains(r.out, "of 10 observed flows would be denied") {
		t.Fatalf("check of the mixed set: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	if r := run(t, "", "diff", "--db", db, "--until", until, "--against", dir); r.code != 0 || !strings.Contains(r.err, "ignored: 3 ClusterNetworkPolicies beside the NetworkPolicies") {
		t.Fatalf("diff of the NetworkPolicies in the mixed set: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	if r := run(t, "", "diff", "--db", db, "--until", until, "--format", "clusternetworkpolicy", "--against", cluster); r.code != 0 {
		t.Fatalf("diff of the guardrails as generated: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	deny := "apiVersion: policy.networking.k8s.io/v1beta1\nkind: ClusterNetworkPolicy\nmetadata: {name: no-shop-egress}\n" +
		"spec:\n  tier: Admin\n  priority: 5\n  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: shop}}}\n" +
		"  egress:\n  - {name: nothing-out, action: Deny, to: [{namespaces: {}}, {networks: [0.0.0.0/0]}]}\n"
	writeFile(t, filepath.Join(dir, "admin.yaml"), deny)
	r := run(t, "", "check", "--db", db, "--until", until, "--policies", dir)
	if r.code != 1 || !strings.Contains(r.out, "egress (denied by ClusterNetworkPolicy no-shop-egress)") || !strings.Contains(r.out, "8 of 10 observed flows would be denied") {
		t.Fatalf("check with an Admin deny: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	dns := filepath.Join(cluster, "flowpol-dns.yaml")
	b, err := os.ReadFile(dns)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dns, strings.Replace(string(b), "priority: 100", "priority: 7", 1))
	r = run(t, "", "diff", "--db", db, "--until", until, "--format", "clusternetworkpolicy", "--against", cluster)
	if r.code != 1 || !strings.Contains(r.out, "change /flowpol-dns") && !strings.Contains(r.out, "change flowpol-dns") || !strings.Contains(r.out, "priority: 7 -> 100") {
		t.Fatalf("diff of an edited guardrail: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
}

// A ClusterNetworkPolicy the API would refuse is an error at its file and
// line, as a NetworkPolicy is.
func TestCheckRefusesBadClusterPolicy(t *testing.T) {
	db := learnScenario(t, "example")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "bad.yaml"), "apiVersion: policy.networking.k8s.io/v1beta1\nkind: ClusterNetworkPolicy\nmetadata: {name: bad}\n"+
		"spec:\n  tier: Middle\n  priority: 5\n  subject: {namespaces: {}}\n")
	r := run(t, "", "check", "--db", db, "--until", "2026-11-22T12:00:00Z", "--policies", dir)
	if r.code != 2 || !strings.Contains(r.err, "bad.yaml:4") || !strings.Contains(r.err, `spec.tier "Middle": want Admin or Baseline`) {
		t.Fatalf("exit %d\n%s", r.code, r.err)
	}
}
