//go:build linux

package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ciliumv2 "github.com/cilium/cilium/pkg/k8s/apis/cilium.io/v2"
	"sigs.k8s.io/yaml"

	"github.com/flowpol/flowpol/cmd/flowpol/cli"
	"github.com/flowpol/flowpol/internal/testpods"
)

// dnsInventory describes the DNS test's pods: web, a Deployment's, and
// the DNS server's.
func dnsInventory(web, dns *testpods.Pod) string {
	return fmt.Sprintf(`apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: app, labels: {kubernetes.io/metadata.name: app}}}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web, namespace: app}
  spec: {selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, image: web}]}}}
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-5d9c8b7f6-abcde
    namespace: app
    uid: %s
    labels: {app: web, pod-template-hash: 5d9c8b7f6}
    ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d9c8b7f6, uid: 00000000-0000-4000-8000-0000000000c1, controller: true}]
  spec: {containers: [{name: c, image: web}]}
  status: {phase: Running, podIP: 10.199.10.1}
- apiVersion: v1
  kind: Pod
  metadata: {name: dns, namespace: app, uid: %s, labels: {app: dns}}
  spec: {containers: [{name: dnsmasq, image: dnsmasq}]}
  status: {phase: Running, podIP: 10.199.10.53}
`, web.UID, dns.UID)
}

// A pod resolves a name through glibc from a real DNS server (Debian's
// dnsmasq) and connects to one of the outside addresses it gave; live
// learn then keeps the name on that external edge, and generate names it
// in the evidence of the address's ipBlock and warns that the name
// resolved to an address nobody connected to.
func TestLearnLiveDNSNames(t *testing.T) {
	testpods.RequireRoot(t)
	cl := testpods.New(t, "/sys/fs/cgroup/unified")
	outside := netip.MustParsePrefix("203.0.113.0/24")
	web := cl.AddPodSpec(testpods.PodSpec{Name: "web", UID: testpods.NewUID(), Addrs: []netip.Prefix{netip.MustParsePrefix("10.199.10.1/24")}, Routes: []netip.Prefix{outside}})
	dns := cl.AddPod("dns", testpods.NewUID(), netip.MustParsePrefix("10.199.10.53/24"))
	saas := cl.AddPodSpec(testpods.PodSpec{Name: "saas", Addrs: []netip.Prefix{netip.MustParsePrefix("203.0.113.77/24")}, Routes: []netip.Prefix{netip.MustParsePrefix("10.199.10.0/24")}})
	saas.StartServer(t, "tcp-serve", "203.0.113.77:443")
	server := netip.MustParseAddr("10.199.10.53")
	dns.StartDNS(t, server, time.Minute, map[string][]netip.Addr{
		"api.example.test": {netip.MustParseAddr("203.0.113.77"), netip.MustParseAddr("203.0.113.78")},
	})
	web.UseResolver(t, server, false)
	dir := t.TempDir()
	inv := filepath.Join(dir, "cluster.yaml")
	if err := os.WriteFile(inv, []byte(dnsInventory(web, dns)), 0o644); err != nil {
		t.Fatal(err)
	}
	dbFile := filepath.Join(dir, "flowpol.db")
	stderr := newWatchWriter("capture attached")
	done := make(chan result, 1)
	go func() {
		var out bytes.Buffer
		code := cli.Run(context.Background(), []string{"learn", "--window", "3s", "--flush", "200ms", "--inventory", inv, "--db", dbFile, "--node", "node-1"},
			cli.Streams{In: strings.NewReader(""), Out: &out, Err: stderr})
		done <- result{code: code, out: out.String(), err: stderr.String()}
	}()
	select {
	case <-stderr.seen:
	case r := <-done:
		t.Fatalf("learn ended before it attached: exit %d\n%s", r.code, r.err)
	}
	if out := web.Run("getent", "ahostsv4", "api.example.test"); !strings.Contains(out, "203.0.113.77") {
		t.Fatalf("getent in pod web: %q", out)
	}
	web.RunClient(t, "tcp-connect", "203.0.113.77:443", "3")
	r := <-done
	if r.code != 0 {
		t.Fatalf("learn: exit %d\n%s", r.code, r.err)
	}
	if !strings.Contains(r.out, "DNS answers, 0 lost") || strings.Contains(r.out, "; 0 DNS answers") {
		t.Errorf("summary does not count the DNS answer:\n%s", r.out)
	}
	g := mustRun(t, "generate", "--db", dbFile)
	for _, want := range []string{
		"egress to external/203.0.113.77 on 443/TCP: 3 connections",
		"; DNS names: api.example.test",
		"cidr: 203.0.113.77/32",
	} {
		if !strings.Contains(g.out, want) {
			t.Errorf("policies lack %q:\n%s", want, g.out)
		}
	}
	if strings.Contains(g.out, "203.0.113.78") {
		t.Errorf("an address resolved but never connected to became a rule:\n%s", g.out)
	}
	if want := "app/Deployment/web: api.example.test resolved to 2 addresses in the window and 1 of them were connected to (203.0.113.77)"; !strings.Contains(g.err, want) {
		t.Errorf("generate does not warn %q:\n%s", want, g.err)
	}
	checkLiveCilium(t, mustRun(t, "generate", "--db", dbFile, "--format", "cilium").out)
}

// checkLiveCilium checks the CiliumNetworkPolicy of the live DNS test's
// client: the name it resolved, not the address, with the DNS rule Cilium
// needs to learn the name's addresses.
func checkLiveCilium(t *testing.T, out string) {
	t.Helper()
	var web *ciliumv2.CiliumNetworkPolicy
	for _, doc := range strings.Split(out, "\n---\n") {
		var p ciliumv2.CiliumNetworkPolicy
		if err := yaml.UnmarshalStrict([]byte(doc), &p); err != nil {
			t.Fatalf("generate --format cilium: %v\n%s", err, out)
		}
		if p.Namespace == "app" && p.Name == "flowpol-deployment-web" {
			web = &p
		}
	}
	if web == nil || web.Spec == nil {
		t.Fatalf("no CiliumNetworkPolicy app/flowpol-deployment-web:\n%s", out)
	}
	var names, patterns []string
	for _, r := range web.Spec.Egress {
		for _, f := range r.ToFQDNs {
			names = append(names, f.MatchName)
			for _, pr := range r.ToPorts {
				for _, pp := range pr.Ports {
					names = append(names, string(pp.Protocol)+"/"+pp.Port)
				}
			}
		}
		if len(r.ToCIDRSet) > 0 || len(r.ToCIDR) > 0 {
			t.Errorf("an egress rule by address, where the name was resolved: %+v", r)
		}
		for _, pr := range r.ToPorts {
			if pr.Rules != nil {
				for _, d := range pr.Rules.DNS {
					patterns = append(patterns, d.MatchPattern)
				}
			}
		}
	}
	if want := []string{"api.example.test", "TCP/443"}; !slices.Equal(names, want) {
		t.Errorf("toFQDNs with their ports %q, want %q:\n%s", names, want, out)
	}
	if !slices.Contains(patterns, "*") {
		t.Errorf("no DNS rule (matchPattern *) for Cilium's DNS proxy to learn the name's addresses:\n%s", out)
	}
}
