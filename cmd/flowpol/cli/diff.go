package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/flowpol/flowpol/generator"
)

type diffOptions struct {
	windowOptions
	generationOptions
	against    string
	kubeconfig string
}

func newDiffCommand(s Streams) *cobra.Command {
	o := &diffOptions{}
	cmd := &cobra.Command{
		Use:   "diff --db FILE (--against DIR | --kubeconfig FILE)",
		Short: "Show what generate would add, remove or change in the policies there",
		Long: `Diff compares the policies generate would write for the window with those
in a directory (or, with --kubeconfig, the cluster): a summary per policy and
rule (new peer, removed port, ...), then a unified diff of the YAML. Only
policies flowpol manages can be removed; others are left out. Exit status:
0 when they are the same, 1 when they differ, 2 on error.`,
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
	o.generationOptions.addFlags(cmd)
	cmd.MarkFlagsMutuallyExclusive("against", "kubeconfig")
	cmd.MarkFlagsOneRequired("against", "kubeconfig")
	return cmd
}

func runDiff(ctx context.Context, o *diffOptions, s Streams) error {
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
	changes := generator.Diff(there, res.Policies)
	if err := generator.WriteDiff(s.Out, changes); err != nil {
		return err
	}
	if len(changes) > 0 {
		return &ExitError{Code: 1}
	}
	return nil
}

// there reads the policies to compare with, from the cluster or the files.
func (o *diffOptions) there(ctx context.Context, s Streams) ([]networkingv1.NetworkPolicy, error) {
	if o.kubeconfig != "" {
		return policiesFromCluster(ctx, o.kubeconfig)
	}
	set, err := policiesFromFiles(o.against, s)
	if err != nil {
		return nil, err
	}
	return set.NetworkPolicies(), nil
}
