package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/flowpol/flowpol/enforce"
	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/policyfile"
	"github.com/flowpol/flowpol/resolve"
	"github.com/flowpol/flowpol/rules"
)

type enforceOptions struct {
	clusterOptions
	mode        string
	policies    string
	rulesFile   string
	ifaces      []string
	netns       string
	attach      string
	pin         string
	unpin       bool
	metricsAddr string
	logAllowed  bool
	refresh     time.Duration
	node        string
	nodeAddrs   []string
}

func newEnforceCommand(s Streams) *cobra.Command {
	o := &enforceOptions{}
	cmd := &cobra.Command{
		Use:   "enforce --mode audit|enforce (--policies DIR | --rules FILE) (--inventory FILE | --kubeconfig FILE) [--iface LIST]",
		Short: "Apply policies with the TC enforcer, in audit or enforce mode",
		Long: `Enforce compiles the policies (or takes compiled rules), binds them to the
pods of the cluster, and applies them with eBPF programs on the host side of
the pods' interfaces: every veth of the network namespace, or those --iface
names. Connections are tracked, so replies and established connections pass.
In audit mode nothing is dropped; each connection enforce mode would drop is
logged. In enforce mode those are dropped and logged. Each verdict is also
counted per policy and rule on --metrics-addr.

Rules are replaced atomically, without breaking established connections that
are still allowed (those no longer allowed are cut): on SIGHUP, when the
files are read again, and, with --kubeconfig, when pods or namespaces change.
"ready:" is printed on standard output once the rules are in force.

On exit the programs are detached: enforcement fails open. With --pin DIR (a
bpffs directory) they stay attached and pinned after the process ends, and
a later enforce with the same --pin replaces them; --unpin --pin DIR removes
them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.unpin {
				if o.pin == "" {
					return fmt.Errorf("--unpin needs --pin DIR")
				}
				return enforce.Unpin(o.pin)
			}
			return runEnforce(cmd.Context(), o, s)
		},
	}
	o.clusterOptions.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.mode, "mode", "audit", "audit (log would-be drops) or enforce (drop them)")
	f.StringVar(&o.policies, "policies", "", `policy files: a directory, or "-" for standard input`)
	f.StringVar(&o.rulesFile, "rules", "", "compiled rules (flowpol compile, generate --format enforcer)")
	f.StringSliceVar(&o.ifaces, "iface", nil, "interfaces to attach to (default every veth)")
	f.StringVar(&o.netns, "netns", "", "network namespace of the interfaces: a name under /var/run/netns or a path (default this process's)")
	f.StringVar(&o.attach, "attach", enforce.AttachAuto, "auto, tcx or tc (cls_bpf)")
	f.StringVar(&o.pin, "pin", "", "bpffs directory to pin the attachments in, so they outlive the process")
	f.BoolVar(&o.unpin, "unpin", false, "detach what an earlier enforce pinned in --pin, and exit")
	f.StringVar(&o.metricsAddr, "metrics-addr", "", "serve Prometheus metrics on this address, e.g. :9091")
	f.BoolVar(&o.logAllowed, "log-allowed", false, "log allowed connections too")
	f.Var(positiveDuration(&o.refresh, 2*time.Second), "refresh", "how often to look for pod changes (with --kubeconfig)")
	f.StringVar(&o.node, "node", "", "this node's name: traffic between its pods and its addresses always passes (default: $NODE_NAME, else the host name)")
	f.StringSliceVar(&o.nodeAddrs, "node-addr", nil, "addresses this node reaches its pods from besides its own, e.g. a bridge's")
	cmd.MarkFlagsMutuallyExclusive("policies", "rules")
	return cmd
}

func (o *enforceOptions) validate() error {
	if o.mode != "audit" && o.mode != "enforce" {
		return fmt.Errorf("--mode %q: want audit or enforce", o.mode)
	}
	if (o.policies == "") == (o.rulesFile == "") {
		return fmt.Errorf("say what to enforce: --policies DIR or --rules FILE")
	}
	return nil
}

// loadSet reads the rules, or compiles the policies.
func (o *enforceOptions) loadSet(s Streams) (*rules.Set, error) {
	if o.rulesFile != "" {
		return rules.Load(o.rulesFile)
	}
	set, err := policiesFromFiles(o.policies, s, policyfile.Options{})
	if err != nil {
		return nil, err
	}
	return rules.Compile(set.NetworkPolicies())
}

func runEnforce(ctx context.Context, o *enforceOptions, s Streams) (err error) {
	if err := o.validate(); err != nil {
		return err
	}
	set, err := o.loadSet(s)
	if err != nil {
		return err
	}
	inv, refresh, err := o.clusterOptions.load(ctx)
	if err != nil {
		return err
	}
	tables, err := o.bind(set, inv, s)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(s.Err, nil))
	e, err := enforce.New(enforce.Options{Audit: o.mode == "audit", Netns: o.netns, Interfaces: o.ifaces, Attach: o.attach, Pin: o.pin, Logger: log})
	if err != nil {
		return err
	}
	defer closeInto(&err, e)
	if err := e.Update(tables); err != nil {
		return err
	}
	metrics, stopMetrics, err := o.serveMetrics(e, log)
	if err != nil {
		return err
	}
	defer stopMetrics()
	fmt.Fprintf(s.Out, "ready: %s mode on %d interfaces; %s\n", o.mode, len(e.Attached()), describeTables(tables))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- e.Run(ctx, func(v enforce.Verdict) {
			metrics.observe(v)
			if v.Kind != enforce.Allowed || o.logAllowed {
				fmt.Fprintln(s.Err, v)
			}
		})
	}()
	return o.watch(ctx, e, enforced{set, inv}, refresh, s, done)
}

// enforced is what the tables in force were bound from.
type enforced struct {
	set *rules.Set
	inv *inventory.Inventory
}

// watch puts new tables in force on SIGHUP (the files read again) and on
// cluster changes (the rules rebound), until ctx ends or reading verdicts
// fails.
func (o *enforceOptions) watch(ctx context.Context, e *enforce.Enforcer, last enforced, refresh func() *inventory.Inventory, s Streams, done <-chan error) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	tick := time.NewTicker(o.refresh)
	defer tick.Stop()
	for {
		next := last
		select {
		case <-ctx.Done():
			return <-done
		case err := <-done:
			return err
		case <-hup:
			var err error
			if next, err = o.reload(last, refresh, s); err != nil {
				fmt.Fprintf(s.Err, "reload: %v; the rules in force stay\n", err)
				continue
			}
		case <-tick.C:
			if refresh == nil {
				continue
			}
			if next.inv = refresh(); next.inv == nil {
				continue
			}
		}
		if err := o.update(e, next, s); err != nil {
			fmt.Fprintf(s.Err, "update: %v; the rules in force stay\n", err)
			continue
		}
		last = next
	}
}

// reload reads the rules or policies again, and the inventory file, or
// takes the live state's newest snapshot (the last one when nothing
// changed).
func (o *enforceOptions) reload(last enforced, refresh func() *inventory.Inventory, s Streams) (enforced, error) {
	set, err := o.loadSet(s)
	if err != nil {
		return last, err
	}
	next := enforced{set: set, inv: last.inv}
	if refresh == nil {
		next.inv, err = o.loadFile()
	} else if inv := refresh(); inv != nil {
		next.inv = inv
	}
	return next, err
}

func (o *enforceOptions) update(e *enforce.Enforcer, next enforced, s Streams) error {
	tables, err := o.bind(next.set, next.inv, s)
	if err != nil {
		return err
	}
	if err := e.Update(tables); err != nil {
		return err
	}
	fmt.Fprintf(s.Err, "rules updated: %s\n", describeTables(tables))
	return nil
}

// bind binds the rules to the cluster's pods for this node.
func (o *enforceOptions) bind(set *rules.Set, inv *inventory.Inventory, s Streams) (*rules.Tables, error) {
	pods, namespaces, err := rulePods(inv)
	if err != nil {
		return nil, err
	}
	node, err := o.thisNode(inv)
	if err != nil {
		return nil, err
	}
	if len(node.Addrs) == 0 {
		fmt.Fprintf(s.Err, "warning: node %q has no addresses in the cluster state and --node-addr names none: traffic between its pods and the node is decided by the rules\n", node.Name)
	}
	return rules.ResolveOnNode(set, pods, namespaces, node)
}

// thisNode is the node the enforcer runs on: its name, its addresses as
// the cluster state gives them, and --node-addr.
func (o *enforceOptions) thisNode(inv *inventory.Inventory) (rules.Node, error) {
	n := rules.Node{Name: o.node}
	if n.Name == "" {
		n.Name = os.Getenv("NODE_NAME") // the downward API
	}
	if n.Name == "" {
		n.Name, _ = os.Hostname()
	}
	for i := range inv.Nodes {
		if inv.Nodes[i].Name == n.Name {
			n.Addrs = append(n.Addrs, resolve.NodeAddrs(&inv.Nodes[i])...)
		}
	}
	for _, s := range o.nodeAddrs {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return n, fmt.Errorf("--node-addr %q: %w", s, err)
		}
		n.Addrs = append(n.Addrs, a.Unmap())
	}
	return n, nil
}

func describeTables(t *rules.Tables) string {
	policies := map[string]bool{}
	for _, iso := range t.Set.Isolation {
		policies[iso.Policy] = true
	}
	return fmt.Sprintf("%d rules from %d policies, %d pod addresses, %d identity classes, %d datapath entries",
		len(t.Set.Rules), len(policies), len(t.Endpoints), len(t.Classes), len(t.Policy))
}

// enforceMetrics counts verdicts when metrics are served.
type enforceMetrics struct{ m *enforce.Metrics }

func (em enforceMetrics) observe(v enforce.Verdict) {
	if em.m != nil {
		em.m.Observe(v)
	}
}

func (o *enforceOptions) serveMetrics(e *enforce.Enforcer, log *slog.Logger) (enforceMetrics, func(), error) {
	if o.metricsAddr == "" {
		return enforceMetrics{}, func() {}, nil
	}
	reg := prometheus.NewRegistry()
	m, err := enforce.NewMetrics(reg, e.Stats)
	if err != nil {
		return enforceMetrics{}, nil, err
	}
	srv, err := serveMetrics(o.metricsAddr, "--metrics-addr", reg, log)
	return enforceMetrics{m}, srv.Close, err
}
