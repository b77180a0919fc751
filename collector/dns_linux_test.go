//go:build linux

package collector_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/internal/testpods"
)

// Pods resolving names through glibc from a real DNS server (dnsmasq),
// over UDP and over TCP, give records of their answers: from the pod that
// received them, to the server's port 53, with the addresses and TTL the
// server gave. Without them no name can be put on an external peer.
func TestCaptureDNSAnswers(t *testing.T) {
	testpods.RequireRoot(t)
	cl := testpods.New(t, "/sys/fs/cgroup/unified")
	dns := cl.AddPod("dns", testpods.NewUID(), netip.MustParsePrefix("10.199.9.53/24"))
	udp := cl.AddPod("udp", testpods.NewUID(), netip.MustParsePrefix("10.199.9.1/24"))
	tcp := cl.AddPod("tcp", testpods.NewUID(), netip.MustParsePrefix("10.199.9.2/24"))
	server := netip.MustParseAddr("10.199.9.53")
	cp := startCapture(t, netip.MustParsePrefix("10.199.9.0/24"), netip.Prefix{})
	dns.StartDNS(t, server, 90*time.Second, map[string][]netip.Addr{
		"api.example.test": {netip.MustParseAddr("203.0.113.77"), netip.MustParseAddr("203.0.113.78")},
		"v6.example.test":  {netip.MustParseAddr("2001:db8::77")},
	})
	udp.UseResolver(t, server, false)
	tcp.UseResolver(t, server, true)
	if out := udp.Run("getent", "ahostsv4", "api.example.test"); !strings.Contains(out, "203.0.113.77") {
		t.Fatalf("getent in pod udp: %q", out)
	}
	if out := tcp.Run("getent", "ahostsv6", "v6.example.test"); !strings.Contains(out, "2001:db8::77") {
		t.Fatalf("getent in pod tcp: %q", out)
	}
	want := []struct {
		pod   *testpods.Pod
		proto flow.Proto
		dns   flow.DNS
	}{
		{udp, flow.UDP, flow.DNS{Name: "api.example.test", TTL: 90, Answers: []netip.Addr{netip.MustParseAddr("203.0.113.77"), netip.MustParseAddr("203.0.113.78")}}},
		{tcp, flow.TCP, flow.DNS{Name: "v6.example.test", TTL: 90, Answers: []netip.Addr{netip.MustParseAddr("2001:db8::77")}}},
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, w := range want {
		for !cp.hasAnswer(w.pod, w.proto, &w.dns) {
			if time.Now().After(deadline) {
				cp.mu.Lock()
				t.Fatalf("no %s answer %+v for pod %s in %+v", w.proto, w.dns, w.pod.Name, cp.recs)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if err := cp.stop(); err != nil {
		t.Fatal(err)
	}
	st, err := cp.c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.DNS < 2 || st.DNSLost != 0 {
		t.Errorf("stats %+v: want at least 2 DNS answers, none lost", st)
	}
}

// hasAnswer says whether a record carries the answer, as pod received it
// from 10.199.9.53.
func (c *capture) hasAnswer(pod *testpods.Pod, proto flow.Proto, d *flow.DNS) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.recs {
		if r.DNS.Equal(d) && r.Proto == proto && r.PodUID == pod.UID && r.Count == 0 && r.Observer == flow.Client &&
			r.Src.Addr() == pod.Addrs[0].Addr() && r.Src.Port() != 0 && r.Dst == netip.MustParseAddrPort("10.199.9.53:53") {
			return true
		}
	}
	return false
}
