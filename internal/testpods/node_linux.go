//go:build linux

package testpods

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// NodeOptions configure a Node.
type NodeOptions struct {
	// Prefix starts the name of every network namespace the node makes
	// (the node's is Prefix+"node"), and names its cgroup for processes
	// outside any pod; it is what Sweep finds leftovers by. Zero means
	// "fp-" and a random suffix.
	Prefix string
	// CgroupRoot is the cgroup2 mount; zero means /sys/fs/cgroup/unified.
	CgroupRoot string
}

// Node is Cluster for programs rather than tests: the same node namespace
// with a bridge and pods on it, reporting errors instead of failing a
// test. Close removes everything it made; Sweep removes what a killed
// process left behind.
type Node struct {
	// Netns is the node's network namespace, under /run/netns.
	Netns      string
	prefix     string
	cgroupRoot string
	mu         sync.Mutex
	pods       []*NodePod
}

// NodePod is a pod of a Node: a network namespace whose eth0 is a veth to
// the node's bridge, and a cgroup.
type NodePod struct {
	Name, UID, Netns string
	// ContainerID names the pod's container cgroup (empty outside the
	// cluster).
	ContainerID string
	// HostIface is the node's end of the pod's veth, on the bridge.
	HostIface string
	Addrs     []netip.Prefix
	CgroupDir string
	n         *Node
	procs     []*exec.Cmd
	files     []*os.File // its cgroup directory, open for commands not yet started
	removed   bool
}

// PodSpec describes a pod to add.
type PodSpec struct {
	Name string
	// UID is the pod's uid: its cgroup is kubepods/burstable/pod<UID>/<container>.
	// Empty makes a namespace outside the cluster, whose processes go in a
	// cgroup of the node's own that no pod uid can be read from.
	UID   string
	Addrs []netip.Prefix
	// Routes are prefixes reached on the bridge directly (on-link), beyond
	// the addresses' own subnets.
	Routes []netip.Prefix
}

// NewNode makes a node namespace with a bridge (br0).
func NewNode(o NodeOptions) (*Node, error) {
	if o.Prefix == "" {
		o.Prefix = "fp-" + randomHex(3) + "-"
	}
	if o.CgroupRoot == "" {
		o.CgroupRoot = "/sys/fs/cgroup/unified"
	}
	n := &Node{Netns: o.Prefix + "node", prefix: o.Prefix, cgroupRoot: o.CgroupRoot}
	err := runAll(
		[]string{"ip", "netns", "add", n.Netns},
		[]string{"ip", "-n", n.Netns, "link", "add", "br0", "type", "bridge"},
		[]string{"ip", "-n", n.Netns, "link", "set", "br0", "up"},
		[]string{"ip", "-n", n.Netns, "link", "set", "lo", "up"},
	)
	if err != nil {
		return nil, errors.Join(err, n.Close())
	}
	return n, nil
}

func runAll(cmds ...[]string) error {
	for _, args := range cmds {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}

// AddPod creates a pod on the bridge. Its host-side interface is named
// after it: "v-" and up to 13 characters of the name, which must be
// unique in that much.
func (n *Node) AddPod(s PodSpec) (*NodePod, error) {
	p := &NodePod{Name: s.Name, UID: s.UID, Netns: n.prefix + s.Name, HostIface: "v-" + s.Name[:min(len(s.Name), 13)], Addrs: s.Addrs, n: n}
	p.CgroupDir = filepath.Join(outsideCgroup(n.cgroupRoot, n.prefix), s.Name)
	if s.UID != "" {
		p.ContainerID = randomHex(8)
		p.CgroupDir = filepath.Join(n.cgroupRoot, "kubepods", "burstable", "pod"+s.UID, p.ContainerID)
	}
	if err := os.MkdirAll(p.CgroupDir, 0o755); err != nil {
		return nil, fmt.Errorf("pod %s: %w", s.Name, err)
	}
	n.mu.Lock()
	n.pods = append(n.pods, p)
	n.mu.Unlock()
	cmds := [][]string{
		{"ip", "netns", "add", p.Netns},
		{"ip", "-n", n.Netns, "link", "add", p.HostIface, "type", "veth", "peer", "name", "eth0", "netns", p.Netns},
		{"ip", "-n", n.Netns, "link", "set", p.HostIface, "master", "br0", "up"},
		{"ip", "-n", p.Netns, "link", "set", "eth0", "up"},
		{"ip", "-n", p.Netns, "link", "set", "lo", "up"},
	}
	for _, a := range s.Addrs {
		cmds = append(cmds, []string{"ip", "-n", p.Netns, "addr", "add", a.String(), "dev", "eth0", "nodad"})
	}
	for _, r := range s.Routes {
		cmds = append(cmds, []string{"ip", "-n", p.Netns, "route", "add", r.String(), "dev", "eth0"})
	}
	if err := runAll(cmds...); err != nil {
		return nil, fmt.Errorf("pod %s: %w", s.Name, err)
	}
	return p, nil
}

// Pods are the node's pods, in the order they were added.
func (n *Node) Pods() []*NodePod {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*NodePod(nil), n.pods...)
}

// Command prepares a command to run in the pod: in its cgroup, then in its
// network namespace. It is killed when the process that started it dies,
// and by Close.
func (p *NodePod) Command(args ...string) (*exec.Cmd, error) {
	dir, err := os.Open(p.CgroupDir)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("ip", append([]string{"netns", "exec", p.Netns}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(dir.Fd()), Pdeathsig: syscall.SIGKILL}
	p.n.mu.Lock()
	p.procs = append(p.procs, cmd)
	p.files = append(p.files, dir) // open until the command starts: closed by RemovePod
	p.n.mu.Unlock()
	return cmd, nil
}

// RemovePod kills the processes started in the pod and removes its
// namespace and cgroup; removing it again does nothing.
func (n *Node) RemovePod(p *NodePod) error {
	n.mu.Lock()
	procs, files, removed := p.procs, p.files, p.removed
	p.procs, p.files, p.removed = nil, nil, true
	n.mu.Unlock()
	if removed {
		return nil
	}
	for _, cmd := range procs {
		if cmd.Process != nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}
	for _, f := range files {
		f.Close()
	}
	removeCgroup(p.CgroupDir)
	return deleteNetns(p.Netns)
}

// Close kills the processes started in the pods and removes the pods'
// namespaces and cgroups and the node's namespace (with the bridge and
// every veth in it). It removes what it can and reports what it could not.
func (n *Node) Close() error {
	n.mu.Lock()
	pods := n.pods
	n.pods = nil
	n.mu.Unlock()
	var errs []error
	for _, p := range pods {
		errs = append(errs, n.RemovePod(p))
	}
	errs = append(errs, deleteNetns(n.Netns))
	os.Remove(outsideCgroup(n.cgroupRoot, n.prefix)) // when it was made, and is empty now
	return errors.Join(errs...)
}

// outsideCgroup holds the processes of a node's namespaces that are no
// pod's.
func outsideCgroup(root, prefix string) string {
	return filepath.Join(root, strings.TrimSuffix(prefix, "-")+"-outside")
}

func deleteNetns(name string) error {
	if _, err := os.Stat(filepath.Join("/run/netns", name)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return runAll([]string{"ip", "netns", "del", name})
}

// Sweep removes what a Node with this prefix left behind when its process
// was killed: the processes in its namespaces, the namespaces, its own
// cgroup, and the pod cgroups whose uid starts with uidPrefix (empty:
// none). It returns what it removed.
func Sweep(prefix, uidPrefix, cgroupRoot string) ([]string, error) {
	if cgroupRoot == "" {
		cgroupRoot = "/sys/fs/cgroup/unified"
	}
	var removed []string
	var errs []error
	entries, err := os.ReadDir("/run/netns")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		if pids, err := exec.Command("ip", "netns", "pids", e.Name()).Output(); err == nil {
			for _, pid := range strings.Fields(string(pids)) {
				exec.Command("kill", "-9", pid).Run()
			}
		}
		errs = append(errs, deleteNetns(e.Name()))
		removed = append(removed, "netns "+e.Name())
	}
	dirs, _ := filepath.Glob(filepath.Join(outsideCgroup(cgroupRoot, prefix), "*"))
	if uidPrefix != "" {
		pods, _ := filepath.Glob(filepath.Join(cgroupRoot, "kubepods", "burstable", "pod"+uidPrefix+"*", "*"))
		dirs = append(dirs, pods...)
	}
	for _, d := range dirs {
		removeCgroup(d)
		removed = append(removed, "cgroup "+strings.TrimPrefix(d, cgroupRoot+"/"))
	}
	os.Remove(outsideCgroup(cgroupRoot, prefix))
	return removed, errors.Join(errs...)
}
