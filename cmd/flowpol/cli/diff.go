package cli

import (
	"context"
	"fmt"
	"slices"

	ciliumv2 "github.com/cilium/cilium/pkg/k8s/apis/cilium.io/v2"
	"github.com/spf13/cobra"
	networkingv1 "k8s.io/api/networking/v1"
	cnp "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/flowpol/flowpol/generator"
	"github.com/flowpol/flowpol/policyfile"
)

type diffOptions struct {
	windowOptions
	generationOptions
	against    string
	kubeconfig string
	format     string
}

func newDiffCommand(s Streams) *cobra.Command {
	o := &diffOptions{}
	cmd := &cobra.Command{
		Use:   "diff --db FILE (--against DIR | --kubeconfig FILE) [--format yaml|cilium|clusternetworkpolicy]",
		Short: "Show what generate would add, remove or change in the policies there",
		Long: `Diff compares the policies generate would write for the window with those
in a directory (or, with --kubeconfig, the cluster): a summary per policy and
rule (new peer, removed port, ...), then a unified diff of the YAML. Only
policies flowpol manages can be removed; others are left out. Exit status:
0 when they are the same, 1 when they differ, 2 on error. With --format cilium
the CiliumNetworkPolicies generate --format cilium would write are compared
with those there, and with --format clusternetworkpolicy the guardrails.`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{annotationErrorExit: "2"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDiff(cmd.Context(), o, s)
		},
	}
	o.windowOptions.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.against, "against", "", "directory of the policies there")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "compare with the cluster's policies, through this kubeconfig")
	f.StringVar(&o.format, "format", "yaml", "policies to compare: yaml (NetworkPolicies), cilium (CiliumNetworkPolicies) or clusternetworkpolicy (ClusterNetworkPolicies)")
	o.generationOptions.addFlags(cmd)
	cmd.MarkFlagsMutuallyExclusive("against", "kubeconfig")
	cmd.MarkFlagsOneRequired("against", "kubeconfig")
	return cmd
}

func runDiff(ctx context.Context, o *diffOptions, s Streams) error {
	switch o.format {
	case "cilium":
		return runCiliumDiff(ctx, o, s)
	case "clusternetworkpolicy":
		return runClusterDiff(ctx, o, s)
	case "yaml":
	default:
		return fmt.Errorf("--format %q: want yaml, cilium or clusternetworkpolicy", o.format)
	}
	there, err := o.there(ctx, s)
	if err != nil {
		return err
	}
	w, err := o.read(s.Err)
	if err != nil {
		return err
	}
	opts, err := o.options()
	if err != nil {
		return err
	}
	res := generator.Generate(w, opts)
	for _, msg := range res.Unmatched {
		fmt.Fprintf(s.Err, "warning: override %s\n", msg)
	}
	there = opts.InScope(there)
	return writeChanges(s, generator.Diff(there, res.Policies))
}

// there reads the policies to compare with, from the cluster or the files.
func (o *diffOptions) there(ctx context.Context, s Streams) ([]networkingv1.NetworkPolicy, error) {
	if o.kubeconfig != "" {
		return policiesFromCluster(ctx, o.kubeconfig)
	}
	set, err := policiesFromFiles(o.against, s, policyfile.Options{Cluster: true})
	if err != nil {
		return nil, err
	}
	if len(set.Cluster) > 0 {
		fmt.Fprintf(s.Err, "ignored: %d ClusterNetworkPolicies beside the NetworkPolicies (compare them with --format clusternetworkpolicy)\n", len(set.Cluster))
	}
	return set.NetworkPolicies(), nil
}

// runCiliumDiff is diff for CiliumNetworkPolicies.
func runCiliumDiff(ctx context.Context, o *diffOptions, s Streams) error {
	there, err := o.ciliumThere(ctx, s)
	if err != nil {
		return err
	}
	w, err := o.read(s.Err)
	if err != nil {
		return err
	}
	opts, err := o.options()
	if err != nil {
		return err
	}
	res, err := generator.GenerateCilium(w, opts)
	if err != nil {
		return err
	}
	for _, msg := range res.Unmatched {
		fmt.Fprintf(s.Err, "warning: override %s\n", msg)
	}
	var inScope []ciliumv2.CiliumNetworkPolicy
	for _, p := range there {
		if (o.namespace == "" || p.Namespace == o.namespace) && !slices.Contains(opts.SkipNamespaces, p.Namespace) {
			inScope = append(inScope, p)
		}
	}
	return writeChanges(s, generator.CiliumDiff(inScope, res.Cilium))
}

// ciliumThere reads the CiliumNetworkPolicies to compare with.
func (o *diffOptions) ciliumThere(ctx context.Context, s Streams) ([]ciliumv2.CiliumNetworkPolicy, error) {
	if o.kubeconfig != "" {
		return ciliumFromCluster(ctx, o.kubeconfig)
	}
	set, err := policyfile.Load(o.against, s.In, policyfile.Options{Cilium: true})
	if err != nil {
		return nil, err
	}
	for _, ig := range set.Ignored {
		fmt.Fprintf(s.Err, "ignored: %s\n", ignoredText(ig))
	}
	for _, w := range set.Warnings {
		fmt.Fprintf(s.Err, "warning: %s:%d: %s: %s\n", w.File, w.Line, w.Object, w.Message)
	}
	if len(set.Policies) > 0 {
		fmt.Fprintf(s.Err, "ignored: %d NetworkPolicies beside the CiliumNetworkPolicies (compare them without --format cilium)\n", len(set.Policies))
	}
	return set.CiliumNetworkPolicies(), nil
}

// runClusterDiff is diff for ClusterNetworkPolicies.
func runClusterDiff(ctx context.Context, o *diffOptions, s Streams) error {
	there, err := o.clusterThere(ctx, s)
	if err != nil {
		return err
	}
	w, err := o.read(s.Err)
	if err != nil {
		return err
	}
	opts, err := o.options()
	if err != nil {
		return err
	}
	res := generator.GenerateCluster(w, opts)
	for _, msg := range res.Unmatched {
		fmt.Fprintf(s.Err, "warning: override %s\n", msg)
	}
	return writeChanges(s, generator.ClusterDiff(there, res.Cluster))
}

// clusterThere reads the ClusterNetworkPolicies to compare with.
func (o *diffOptions) clusterThere(ctx context.Context, s Streams) ([]cnp.ClusterNetworkPolicy, error) {
	if o.kubeconfig != "" {
		return clusterPoliciesFromCluster(ctx, o.kubeconfig)
	}
	set, err := policiesFromFiles(o.against, s, policyfile.Options{Cluster: true})
	if err != nil {
		return nil, err
	}
	if len(set.Policies) > 0 {
		fmt.Fprintf(s.Err, "ignored: %d NetworkPolicies beside the ClusterNetworkPolicies (compare them without --format clusternetworkpolicy)\n", len(set.Policies))
	}
	return set.ClusterNetworkPolicies(), nil
}

// writeChanges prints changes as diff does, and exits 1 when there are
// any: the CI gate of every format.
func writeChanges(s Streams, changes []generator.Change) error {
	if err := generator.WriteDiff(s.Out, changes); err != nil {
		return err
	}
	if len(changes) > 0 {
		return &ExitError{Code: 1}
	}
	return nil
}
