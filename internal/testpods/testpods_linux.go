//go:build linux

package testpods

import (
	"crypto/rand"
	"encoding/hex"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

// Cluster is a Node for tests: a node namespace with a bridge, and the
// pods on it, failing the test where a Node returns an error, and removed
// by t.Cleanup.
type Cluster struct {
	t          testing.TB
	node       *Node
	CgroupRoot string // the cgroup2 mount
}

// Pod is a network namespace and a cgroup.
type Pod struct {
	*NodePod
	c *Cluster
}

// New makes an empty cluster; cgroupRoot is the cgroup2 mount.
func New(t testing.TB, cgroupRoot string) *Cluster {
	t.Helper()
	RequireRoot(t)
	n, err := NewNode(NodeOptions{CgroupRoot: cgroupRoot})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return &Cluster{t: t, node: n, CgroupRoot: cgroupRoot}
}

// Node is the name of the node's network namespace, where the bridge and
// the host sides of the pods' veths are.
func (c *Cluster) Node() string { return c.node.Netns }

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

// AddPod creates a pod with the given addresses (with prefix lengths) on
// the bridge. IPv6 addresses are usable at once (no duplicate detection).
func (c *Cluster) AddPod(name, uid string, addrs ...netip.Prefix) *Pod {
	c.t.Helper()
	np, err := c.node.AddPod(PodSpec{Name: name, UID: uid, Addrs: addrs})
	if err != nil {
		c.t.Fatal(err)
	}
	return &Pod{NodePod: np, c: c}
}

// Command prepares a command to run in the pod: in its cgroup, then in its
// network namespace. Once started, the process is killed at cleanup if
// still running.
func (p *Pod) Command(args ...string) *exec.Cmd {
	p.c.t.Helper()
	cmd, err := p.NodePod.Command(args...)
	if err != nil {
		p.c.t.Fatal(err)
	}
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
	if err := p.c.node.RemovePod(p.NodePod); err != nil {
		p.c.t.Error(err)
	}
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
