//go:build linux

package testpods

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RequireRoot skips the test when not root, except in CI, where it fails:
// the kernel tests must run there.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("this test needs root, and CI runs as root")
	}
	t.Skip("needs root")
}

// Cluster is a node namespace with a bridge, and the pods on it.
type Cluster struct {
	t          testing.TB
	id         string
	node       string // the node's network namespace
	CgroupRoot string // the cgroup2 mount
	mu         sync.Mutex
	pods       []*Pod
}

// Pod is a network namespace and a cgroup.
type Pod struct {
	c           *Cluster
	Name        string
	UID         string
	ContainerID string
	Netns       string
	Addrs       []netip.Prefix
	CgroupDir   string // absolute
	HostIface   string // the host side of its veth, in the node namespace
	procs       []*exec.Cmd
	deleted     bool
}

// New makes an empty cluster; cgroupRoot is the cgroup2 mount.
func New(t testing.TB, cgroupRoot string) *Cluster {
	t.Helper()
	RequireRoot(t)
	c := &Cluster{t: t, id: randomHex(3), CgroupRoot: cgroupRoot}
	c.node = "fp-" + c.id + "-node"
	t.Cleanup(c.cleanup)
	c.run("ip", "netns", "add", c.node)
	c.run("ip", "-n", c.node, "link", "add", "br0", "type", "bridge")
	c.run("ip", "-n", c.node, "link", "set", "br0", "up")
	c.run("ip", "-n", c.node, "link", "set", "lo", "up")
	return c
}

// Node is the name of the node's network namespace, where the bridge and
// the host sides of the pods' veths are.
func (c *Cluster) Node() string { return c.node }

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails
	return hex.EncodeToString(b)
}

// NewUID returns a random pod uid.
func NewUID() string {
	h := randomHex(16)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (c *Cluster) run(args ...string) {
	c.t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		c.t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// AddPod creates a pod with the given addresses (with prefix lengths) on
// the bridge. IPv6 addresses are usable at once (no duplicate detection).
func (c *Cluster) AddPod(name, uid string, addrs ...netip.Prefix) *Pod {
	c.t.Helper()
	c.mu.Lock()
	n := len(c.pods)
	c.mu.Unlock()
	p := &Pod{c: c, Name: name, UID: uid, ContainerID: randomHex(8), Netns: fmt.Sprintf("fp-%s-%s", c.id, name), Addrs: addrs}
	p.CgroupDir = filepath.Join(c.CgroupRoot, "kubepods", "burstable", "pod"+uid, p.ContainerID)
	if err := os.MkdirAll(p.CgroupDir, 0o755); err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	c.pods = append(c.pods, p)
	c.mu.Unlock()
	host, peer := fmt.Sprintf("fp%sh%d", c.id, n), fmt.Sprintf("fp%sp%d", c.id, n)
	p.HostIface = host
	c.run("ip", "netns", "add", p.Netns)
	c.run("ip", "-n", c.node, "link", "add", host, "type", "veth", "peer", "name", peer, "netns", p.Netns)
	c.run("ip", "-n", c.node, "link", "set", host, "master", "br0", "up")
	c.run("ip", "-n", p.Netns, "link", "set", peer, "name", "eth0")
	c.run("ip", "-n", p.Netns, "link", "set", "eth0", "up")
	c.run("ip", "-n", p.Netns, "link", "set", "lo", "up")
	for _, a := range addrs {
		args := []string{"ip", "-n", p.Netns, "addr", "add", a.String(), "dev", "eth0"}
		if a.Addr().Is6() {
			args = append(args, "nodad")
		}
		c.run(args...)
	}
	return p
}

// Command prepares a command to run in the pod: in its cgroup, then in its
// network namespace. Once started, the process is killed at cleanup if
// still running.
func (p *Pod) Command(args ...string) *exec.Cmd {
	p.c.t.Helper()
	dir, err := os.Open(p.CgroupDir) // open until cleanup: the command starts later
	if err != nil {
		p.c.t.Fatal(err)
	}
	p.c.t.Cleanup(func() { dir.Close() })
	cmd := exec.Command("ip", append([]string{"netns", "exec", p.Netns}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(dir.Fd())}
	p.procs = append(p.procs, cmd)
	return cmd
}

// Run runs a command in the pod and waits for it, failing the test when it
// fails; it returns its standard output.
func (p *Pod) Run(args ...string) string {
	p.c.t.Helper()
	cmd := p.Command(args...)
	out, err := cmd.Output()
	if err != nil {
		p.c.t.Fatalf("in pod %s: %s: %v", p.Name, strings.Join(args, " "), err)
	}
	return string(out)
}

// Delete kills the pod's processes and removes its namespace and cgroup.
func (p *Pod) Delete() {
	p.c.t.Helper()
	if p.deleted {
		return
	}
	p.deleted = true
	for _, cmd := range p.procs {
		if cmd.Process != nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}
	exec.Command("ip", "netns", "del", p.Netns).Run()
	removeCgroup(p.CgroupDir)
}

// removeCgroup removes a pod's container cgroup and then its pod cgroup,
// and the kubepods levels above it when they are empty. A cgroup with
// processes left is killed first.
func removeCgroup(dir string) {
	os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0)
	for i := 0; i < 50; i++ {
		if err := os.Remove(dir); err == nil || os.IsNotExist(err) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for d := filepath.Dir(dir); strings.Contains(d, "kubepods"); d = filepath.Dir(d) {
		if os.Remove(d) != nil {
			break // not empty: another pod's, or another test's
		}
	}
}

func (c *Cluster) cleanup() {
	c.mu.Lock()
	pods := c.pods
	c.mu.Unlock()
	for _, p := range pods {
		p.Delete()
	}
	exec.Command("ip", "netns", "del", c.node).Run()
}
