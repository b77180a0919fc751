package cli

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/pmezard/go-difflib/difflib"
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
	var there []networkingv1.NetworkPolicy
	var err error
	if o.kubeconfig != "" {
		there, _, err = policiesFromCluster(ctx, o.kubeconfig)
	} else {
		there, _, err = policiesFromFiles(o.against, s.In)
	}
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
	there = inScope(there, o.namespace, opts.SkipNamespaces)
	changes := generator.Diff(there, res.Policies)
	if err := writeDiff(s.Out, changes); err != nil {
		return err
	}
	if len(changes) > 0 {
		return &ExitError{Code: 1}
	}
	return nil
}

// inScope keeps the policies in the namespaces generate was asked for.
func inScope(ps []networkingv1.NetworkPolicy, namespace string, skip []string) []networkingv1.NetworkPolicy {
	var out []networkingv1.NetworkPolicy
	for _, p := range ps {
		if (namespace == "" || p.Namespace == namespace) && !slices.Contains(skip, p.Namespace) {
			out = append(out, p)
		}
	}
	return out
}

func writeDiff(w io.Writer, changes []generator.Change) error {
	if len(changes) == 0 {
		_, err := fmt.Fprintln(w, "no changes")
		return err
	}
	for _, c := range changes {
		fmt.Fprintf(w, "%s %s/%s\n", c.Kind, c.Namespace, c.Name)
		for _, d := range c.Details {
			fmt.Fprintf(w, "  %s\n", d)
		}
	}
	for _, c := range changes {
		text, err := unified(c)
		if err != nil {
			return err
		}
		fmt.Fprint(w, "\n"+text)
	}
	return nil
}

// unified is the YAML diff of one change.
func unified(c generator.Change) (string, error) {
	var a, b string
	name := c.Namespace + "." + c.Name + ".yaml"
	for _, side := range []struct {
		p   *networkingv1.NetworkPolicy
		out *string
	}{{c.Old, &a}, {c.New, &b}} {
		if side.p == nil {
			continue
		}
		y, err := generator.Marshal(side.p)
		if err != nil {
			return "", err
		}
		*side.out = string(y)
	}
	return difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(a), B: difflib.SplitLines(b),
		FromFile: "a/" + name, ToFile: "b/" + name, Context: 3,
	})
}
