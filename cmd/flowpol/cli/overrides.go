package cli

import (
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowpol/flowpol/generator"
	"github.com/flowpol/flowpol/overrides"
	"github.com/flowpol/flowpol/topology"
)

// overridesOption is the --overrides flag of the commands that generate.
type overridesOption struct {
	path string
}

func (o *overridesOption) addFlag(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.path, "overrides", "", "overrides file: exclusions, extra peers, widened externals, selectors, skipped namespaces and workloads")
}

// load reads the overrides file, or returns nil when there is none.
func (o *overridesOption) load() (*overrides.Set, error) {
	if o.path == "" {
		return nil, nil
	}
	return overrides.Load(o.path)
}

// generationOptions are the flags that shape generation, shared by
// generate and diff so that diff shows what generate would write.
type generationOptions struct {
	overrides      overridesOption
	namespace      string
	skipNamespaces []string
	minCount       uint64
	minPods        int
	defaultDeny    bool
	nodeCIDRs      []string
	lbIngress      string
	minCoverage    time.Duration
}

func (o *generationOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	o.overrides.addFlag(cmd)
	f.StringVar(&o.namespace, "namespace", "", "only generate policies for workloads in this namespace")
	f.StringSliceVar(&o.skipNamespaces, "skip-namespace", []string{"kube-system"}, "namespaces to generate no policies for (their workloads still appear as peers)")
	f.BoolVar(&o.defaultDeny, "default-deny", false, "also write a deny-all policy for every namespace that gets policies, and say which workloads it would cut off")
	f.Uint64Var(&o.minCount, "min-count", 0, "hold back edges seen fewer times than this")
	f.Var(nonNegativeInt(&o.minPods, 0), "min-pods", "hold back edges seen from fewer pods than this")
	f.Var(nonNegativeDuration(&o.minCoverage, 0), "min-coverage", "hold back the policies of workloads observed over less than this span of the window (7d, 2w; 0 holds back none)")
	f.StringVar(&o.lbIngress, "lb-ingress", "service", "ingress from outside through a LoadBalancer or NodePort Service: service (as the Service lets it in) or observed (only the addresses seen)")
	f.StringSliceVar(&o.nodeCIDRs, "node-cidr", nil, "name the nodes by these CIDRs in rules for node and hostNetwork peers (default: every node's address)")
}

// options builds the generator's options, reading the overrides file; its
// skipped namespaces, when it lists any, replace the flag's.
func (o *generationOptions) options() (generator.Options, error) {
	ov, err := o.overrides.load()
	if err != nil {
		return generator.Options{}, err
	}
	base, err := o.base()
	if err != nil {
		return generator.Options{}, err
	}
	return base.WithOverrides(ov), nil
}

// base is the generator's options from the flags alone.
func (o *generationOptions) base() (generator.Options, error) {
	if o.lbIngress != "service" && o.lbIngress != "observed" {
		return generator.Options{}, fmt.Errorf("--lb-ingress %q: want service or observed", o.lbIngress)
	}
	var nodes []netip.Prefix
	for _, c := range o.nodeCIDRs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return generator.Options{}, fmt.Errorf("--node-cidr %q: %w", c, err)
		}
		nodes = append(nodes, p.Masked())
	}
	return generator.Options{Namespace: o.namespace, SkipNamespaces: o.skipNamespaces,
		MinCount: o.minCount, MinPods: o.minPods, DefaultDeny: o.defaultDeny, NodeCIDRs: nodes,
		LBObserved: o.lbIngress == "observed", MinCoverage: o.minCoverage}, nil
}

// namespaceWarning says when --namespace names a namespace with no
// workload seen in the window: nothing is generated, and the name may be a
// typo.
func (o *generationOptions) namespaceWarning(w io.Writer, win *topology.Window) {
	if o.namespace == "" {
		return
	}
	for ref := range win.Workloads {
		if ref.Namespace == o.namespace {
			return
		}
	}
	fmt.Fprintf(w, "warning: --namespace %s: no workload in it was seen in the window\n", o.namespace)
}

// reportGenerate writes what a generation left out or could not use.
func reportGenerate(w io.Writer, res *generator.Result, skip []string) {
	for _, msg := range res.Warnings {
		fmt.Fprintf(w, "warning: %s\n", msg)
	}
	for _, msg := range res.Unmatched {
		fmt.Fprintf(w, "warning: override %s\n", msg)
	}
	for _, msg := range res.Excluded {
		fmt.Fprintf(w, "excluded: %s\n", msg)
	}
	for _, msg := range res.Isolated {
		fmt.Fprintf(w, "default deny: %s\n", msg)
	}
	for _, msg := range res.HeldBack {
		fmt.Fprintf(w, "held back, below threshold: %s\n", msg)
	}
	if len(skip) > 0 {
		fmt.Fprintf(w, "skipped namespaces: %v (set --skip-namespace or skipNamespaces to change)\n", skip)
	}
}
