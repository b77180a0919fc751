package cli

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowpol/flowpol/generator"
	"github.com/flowpol/flowpol/topology"
)

type generateOptions struct {
	windowOptions
	generationOptions
	out    string
	format string
}

func newGenerateCommand(s Streams) *cobra.Command {
	o := &generateOptions{}
	cmd := &cobra.Command{
		Use:   "generate --db FILE [--window 3h] [--until TIME] [--format yaml|cilium|clusternetworkpolicy|enforcer] [-o DIR|-]",
		Short: "Generate NetworkPolicies from a window of the baseline",
		Long: `Generate writes one NetworkPolicy per workload seen in the window, isolating
it for ingress and egress and allowing exactly the peers and target ports it
was seen to use. Edges last seen before the window are left out. With -o DIR
each policy goes to DIR/<namespace>.<name>.yaml, and files of earlier runs
whose workloads are gone are removed; with -o - (the default) they go to
standard output as one YAML stream. Warnings go to standard error.

With --format cilium the same rules are written as cilium.io/v2
CiliumNetworkPolicies: nodes, hostNetwork pods and the API server as Cilium's
entities, outside addresses reached through DNS names as those names
(toFQDNs).

With --format clusternetworkpolicy cluster-wide guardrails are written, as
policy.networking.k8s.io/v1beta1 ClusterNetworkPolicies, for the namespaces
the window's workloads are in: in the Admin tier, DNS to the cluster's DNS
pods accepted, and the cloud metadata endpoint (169.254.169.254,
fd00:ec2::254) accepted on the ports seen for each workload seen using it
and denied to every other; in the Baseline tier, a default deny, which the
NetworkPolicies override for what they allow.

With --format enforcer the same policies are compiled into the rules
flowpol enforce applies (see flowpol compile), written to standard output or
to the file -o names.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runGenerate(cmd.Context(), o, s)
		},
	}
	o.windowOptions.addFlags(cmd)
	o.generationOptions.addFlags(cmd)
	cmd.Flags().StringVarP(&o.out, "output", "o", "-", `directory to write policies to (a file with --format enforcer), or "-" for standard output`)
	cmd.Flags().StringVar(&o.format, "format", "yaml", "output: yaml (NetworkPolicies), cilium (CiliumNetworkPolicies), clusternetworkpolicy (ClusterNetworkPolicy guardrails) or enforcer (native rules)")
	return cmd
}

func runGenerate(_ context.Context, o *generateOptions, s Streams) error {
	if !slices.Contains([]string{"yaml", "cilium", "clusternetworkpolicy", "enforcer"}, o.format) {
		return fmt.Errorf("--format %q: want yaml, cilium, clusternetworkpolicy or enforcer", o.format)
	}
	w, err := o.read(s.Err)
	if err != nil {
		return err
	}
	opts, err := o.options()
	if err != nil {
		return err
	}
	if o.format == "cilium" {
		res, err := generator.GenerateCilium(w, opts)
		if err != nil {
			return err
		}
		reportGenerate(s.Err, &res.Result, opts.SkipNamespaces)
		o.namespaceWarning(s.Err, w)
		return writePolicies(s, o.out, w, generator.Objects(res.Cilium))
	}
	if o.format == "clusternetworkpolicy" {
		res := generator.GenerateCluster(w, opts)
		reportGenerate(s.Err, &res.Result, opts.SkipNamespaces)
		o.namespaceWarning(s.Err, w)
		return writePolicies(s, o.out, w, generator.Objects(res.Cluster))
	}
	res := generator.Generate(w, opts)
	reportGenerate(s.Err, res, opts.SkipNamespaces)
	o.namespaceWarning(s.Err, w)
	if o.format == "enforcer" {
		return writeRules(s.Out, o.out, res.Policies)
	}
	return writePolicies(s, o.out, w, generator.Objects(res.Policies))
}

// writePolicies writes generated objects to standard output ("-") or a
// directory, and says what it wrote and removed.
func writePolicies(s Streams, out string, w *topology.Window, objs []generator.Object) error {
	if out == "-" {
		return generator.WriteObjects(s.Out, objs)
	}
	removed, err := generator.WriteObjectsDir(out, objs)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.Err, "wrote %d policies for %s to %s\n", len(objs), w.From.Format(time.RFC3339)+"/"+w.To.Format(time.RFC3339), out)
	for _, name := range removed {
		fmt.Fprintf(s.Err, "removed %s: its workload was not seen in the window\n", name)
	}
	return nil
}
