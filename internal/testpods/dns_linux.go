package testpods

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// AddPodSpec creates a pod as s describes it: with a uid a pod of the
// cluster, without one a namespace outside it (an "external" server).
func (c *Cluster) AddPodSpec(s PodSpec) *Pod {
	c.t.Helper()
	np, err := c.node.AddPod(s)
	if err != nil {
		c.t.Fatal(err)
	}
	return &Pod{NodePod: np, c: c}
}

// StartDNS runs Debian's dnsmasq in the pod, on addr port 53 (UDP and
// TCP), answering each name of hosts with its addresses and the TTL given,
// and nothing else: no upstream server, no /etc/hosts. It returns once
// dnsmasq says it has started.
func (p *Pod) StartDNS(t testing.TB, addr netip.Addr, ttl time.Duration, hosts map[string][]netip.Addr) {
	t.Helper()
	dir := t.TempDir()
	args := []string{"dnsmasq", "--keep-in-foreground", "--log-facility=-", "--conf-file=/dev/null",
		"--pid-file=" + filepath.Join(dir, "dnsmasq.pid"), "--user=root", "--group=root",
		"--no-resolv", "--no-hosts", "--no-poll", "--bind-interfaces", "--listen-address=" + addr.String(), "--port=53"}
	names := make([]string, 0, len(hosts))
	for n := range hosts {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		for _, a := range hosts[n] {
			args = append(args, fmt.Sprintf("--host-record=%s,%s,%d", n, a, int(ttl.Seconds())))
		}
	}
	cmd := p.Command(args...)
	errOut, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dnsmasq in pod %s: %v", p.Name, err)
	}
	started := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(errOut)
		var log []string
		for sc.Scan() {
			log = append(log, sc.Text())
			if strings.Contains(sc.Text(), "started, version") {
				started <- nil
				for sc.Scan() { // keep draining, so dnsmasq never blocks on its log
				}
				return
			}
		}
		started <- fmt.Errorf("dnsmasq in pod %s ended: %s", p.Name, strings.Join(log, "\n"))
	}()
	select {
	case err := <-started:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("dnsmasq in pod %s did not start in 10 s", p.Name)
	}
}

// UseResolver makes glibc, in the commands the pod runs from now on, ask
// server for names: it writes /etc/netns/<netns>/resolv.conf, which `ip
// netns exec` mounts over /etc/resolv.conf, with `options use-vc` (TCP)
// when tcp is set. It is removed at cleanup.
func (p *Pod) UseResolver(t testing.TB, server netip.Addr, tcp bool) {
	t.Helper()
	dir := filepath.Join("/etc/netns", p.Netns)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	conf := "nameserver " + server.String() + "\noptions attempts:2 timeout:2\n"
	if tcp {
		conf += "options use-vc\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
}
