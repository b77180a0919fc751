//go:build linux

package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/flowpol/flowpol/internal/testpods"
)

// demo is one run: its options with defaults filled in, and what it made.
type demo struct {
	o    Options
	self string // this program, run again as the app's programs
	apps []workload
	node *testpods.Node
	pods map[string]*testpods.NodePod
	tmp  bool // Dir is ours to remove
}

// Run runs the demo, telling its story on o.Out, and removes everything
// it made before it returns, also when ctx is cancelled. It returns
// ErrUnexpected when enforcement did not keep the learned traffic and stop
// the unobserved.
func Run(ctx context.Context, o Options) (err error) {
	if os.Geteuid() != 0 {
		return errors.New("the demo needs root (network namespaces, cgroups, eBPF): run it with sudo")
	}
	d, err := newDemo(o)
	if err != nil {
		return err
	}
	d.sweep()
	defer func() { err = errors.Join(err, d.cleanup()) }()
	for i, s := range d.steps() {
		fmt.Fprintf(d.o.Out, "\n== %d. %s\n", i+1, s.title)
		if err := s.run(ctx); err != nil {
			if ctx.Err() != nil { // interrupted: what failed is what was stopped
				return fmt.Errorf("interrupted: %s: %w", s.title, ctx.Err())
			}
			return fmt.Errorf("%s: %w", s.title, err)
		}
	}
	return nil
}

func newDemo(o Options) (*demo, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this program: %w", err)
	}
	d := &demo{o: o, self: self, apps: app(), pods: map[string]*testpods.NodePod{}}
	if d.o.Out == nil {
		d.o.Out = io.Discard
	}
	if d.o.Err == nil {
		d.o.Err = io.Discard
	}
	// The app's programs, flowpol and the demo write at once.
	mu := &sync.Mutex{}
	d.o.Out, d.o.Err = &lockedWriter{mu: mu, w: d.o.Out}, &lockedWriter{mu: mu, w: d.o.Err}
	if d.o.Learn <= 0 {
		d.o.Learn = 30 * time.Second
	}
	if d.o.Prefix == "" {
		d.o.Prefix = "fpdemo-"
	}
	if d.o.CgroupRoot == "" {
		d.o.CgroupRoot = cgroupRoot()
	}
	if d.o.Flowpol == "" {
		if d.o.Flowpol, err = findFlowpol(self); err != nil {
			return nil, err
		}
	}
	if d.o.Dir == "" {
		if d.o.Dir, err = os.MkdirTemp("", "flowpol-demo-"); err != nil {
			return nil, err
		}
		d.tmp = true
	} else if err := os.MkdirAll(d.o.Dir, 0o755); err != nil {
		return nil, err
	}
	return d, nil
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func cgroupRoot() string {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup/unified", &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "/sys/fs/cgroup/unified"
	}
	return "/sys/fs/cgroup"
}

func findFlowpol(self string) (string, error) {
	beside := filepath.Join(filepath.Dir(self), "flowpol")
	if _, err := os.Stat(beside); err == nil {
		return beside, nil
	}
	p, err := exec.LookPath("flowpol")
	if err != nil {
		return "", fmt.Errorf("find flowpol (build it with make build, or say where with --flowpol): %w", err)
	}
	return p, nil
}

type step struct {
	title string
	run   func(context.Context) error
}

func (d *demo) steps() []step {
	return []step{
		{"a cluster: a node namespace with a bridge, and a pod namespace per workload", d.buildCluster},
		{"the app: frontend -> catalog, cart -> postgres, redis; DNS; payments outside", d.startApp},
		{"the inventory (what kubectl get -o yaml would print)", d.writeInventory},
		{fmt.Sprintf("learn for %v with the live collector while a load generator drives the app", d.o.Learn), d.learn},
		{"generate the policies", d.generate},
		{"the topology", d.topology},
		{"check: would the policies deny anything observed?", d.check},
		{"enforce the policies", d.enforce},
	}
}

// sweep removes what a killed earlier run left behind.
func (d *demo) sweep() {
	removed, err := testpods.Sweep(d.o.Prefix, uidPrefix, d.o.CgroupRoot)
	if len(removed) > 0 {
		fmt.Fprintf(d.o.Out, "removed what an earlier run left behind: %s\n", strings.Join(removed, ", "))
	}
	if err != nil {
		fmt.Fprintf(d.o.Err, "demo: clean up an earlier run: %v\n", err)
	}
}

func (d *demo) buildCluster(context.Context) error {
	node, err := testpods.NewNode(testpods.NodeOptions{Prefix: d.o.Prefix, CgroupRoot: d.o.CgroupRoot})
	if err != nil {
		return err
	}
	d.node = node
	fmt.Fprintf(d.o.Out, "node namespace %s, bridge br0\n", node.Netns)
	cluster, outside := netip.MustParsePrefix(podCIDR), netip.MustParsePrefix(paymentsAddr+"/24").Masked()
	for _, w := range d.apps {
		spec := testpods.PodSpec{Name: w.pod, UID: w.uid, Addrs: []netip.Prefix{netip.PrefixFrom(w.addr, 24)}, Routes: []netip.Prefix{outside}}
		ref := w.ref()
		if w.namespace == "" {
			spec.Routes, ref = []netip.Prefix{cluster}, "outside the cluster"
		}
		p, err := node.AddPod(spec)
		if err != nil {
			return err
		}
		d.pods[w.pod] = p
		fmt.Fprintf(d.o.Out, "  %-12s %-15s %-28s veth %s\n", w.pod, w.addr, ref, p.HostIface)
	}
	return nil
}

// appArgs are the arguments of a workload's program.
func (d *demo) appArgs(w workload) []string {
	args := []string{"listen=" + w.listen(), "dns=" + find(d.apps, "coredns").listen()}
	if w.role == "dns" {
		for _, o := range d.apps {
			if o.dnsName != "" {
				args = append(args, "record="+o.dnsName+"="+o.addr.String())
			}
		}
	}
	return args
}

func (d *demo) startApp(ctx context.Context) error {
	for _, w := range d.apps {
		if w.port == 0 {
			continue
		}
		if err := d.startServer(ctx, w); err != nil {
			return fmt.Errorf("start %s: %w", w.pod, err)
		}
		fmt.Fprintf(d.o.Out, "  %-12s listening on %s/%s\n", w.pod, w.listen(), w.proto)
	}
	return nil
}

// command prepares this program to run in a pod as one of the app's: run
// through a link named after the role, so that the collector records the
// role as the process name.
func (d *demo) command(pod, role string, args ...string) (*exec.Cmd, error) {
	bin := d.path(filepath.Join("bin", role))
	if _, err := os.Lstat(bin); err != nil {
		if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
			return nil, err
		}
		if err := os.Symlink(d.self, bin); err != nil {
			return nil, err
		}
	}
	cmd, err := d.pods[pod].Command(append([]string{bin}, args...)...)
	if err != nil {
		return nil, err
	}
	cmd.Env = append(os.Environ(), roleEnv+"="+role)
	cmd.Stderr = d.o.Err
	return cmd, nil
}

func (d *demo) startServer(ctx context.Context, w workload) error {
	cmd, err := d.command(w.pod, w.role, d.appArgs(w)...)
	if err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	return waitLine(ctx, out, hasPrefix("ready"), 10*time.Second, nil)
}

// inPod runs one of the app's clients in a pod and returns what it
// printed; a cancelled ctx kills it.
func (d *demo) inPod(ctx context.Context, pod, role string, args ...string) (string, error) {
	cmd, err := d.command(pod, role, args...)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	stop := context.AfterFunc(ctx, func() { cmd.Process.Kill() }) //nolint:errcheck // Wait reports how it ended
	defer stop()
	if err := cmd.Wait(); err != nil {
		return "", errors.Join(fmt.Errorf("%s in %s: %w", role, pod, err), ctx.Err())
	}
	return strings.TrimSpace(out.String()), ctx.Err()
}

func (d *demo) writeInventory(context.Context) error {
	if err := os.Remove(d.path("flowpol.db")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err // a kept directory's baseline: learn afresh
	}
	path := d.path("cluster.yaml")
	if err := os.WriteFile(path, []byte(inventory(d.apps)), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(d.o.Out, "wrote %s: 3 namespaces, a node, 7 workloads with their pods and Services\n", path)
	return nil
}

func (d *demo) path(name string) string { return filepath.Join(d.o.Dir, name) }

func (d *demo) cleanup() error {
	fmt.Fprintf(d.o.Out, "\n== cleanup\n")
	var err error
	if d.node != nil {
		err = d.node.Close()
	}
	if d.tmp {
		err = errors.Join(err, os.RemoveAll(d.o.Dir))
	} else {
		fmt.Fprintf(d.o.Out, "kept %s (inventory, baseline, policies, topology.html)\n", d.o.Dir)
	}
	if left := leftovers(d.o.Prefix, d.o.CgroupRoot); len(left) > 0 {
		return errors.Join(err, fmt.Errorf("left behind: %s", strings.Join(left, ", ")))
	}
	fmt.Fprintf(d.o.Out, "removed the %d pod namespaces, the node namespace with its bridge and veths, the cgroups and processes: nothing left\n", len(d.apps))
	return err
}

// leftovers are the demo's namespaces and cgroups that exist.
func leftovers(prefix, root string) []string {
	var out []string
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, "netns "+e.Name())
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(root, "kubepods", "burstable", "pod"+uidPrefix+"*"))
	more, _ := filepath.Glob(filepath.Join(root, strings.TrimSuffix(prefix, "-")+"-outside"))
	for _, d := range append(dirs, more...) {
		out = append(out, "cgroup "+d)
	}
	return out
}
