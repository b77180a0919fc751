package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowpol/flowpol/generator"
)

type generateOptions struct {
	windowOptions
	overrides      overridesOption
	out            string
	namespace      string
	skipNamespaces []string
	minCount       uint64
	minPods        int
	defaultDeny    bool
}

func newGenerateCommand(s Streams) *cobra.Command {
	o := &generateOptions{}
	cmd := &cobra.Command{
		Use:   "generate --db FILE [--window 3h] [--until TIME] [-o DIR|-]",
		Short: "Generate NetworkPolicies from a window of the baseline",
		Long: `Generate writes one NetworkPolicy per workload seen in the window, isolating
it for ingress and egress and allowing exactly the peers and target ports it
was seen to use. Edges last seen before the window are left out. With -o DIR
each policy goes to DIR/<namespace>.<name>.yaml, and files of earlier runs
whose workloads are gone are removed; with -o - (the default) they go to
standard output as one YAML stream. Warnings go to standard error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runGenerate(cmd.Context(), o, s)
		},
	}
	o.windowOptions.addFlags(cmd)
	f := cmd.Flags()
	f.StringVarP(&o.out, "output", "o", "-", `directory to write policies to, or "-" for standard output`)
	f.StringVar(&o.namespace, "namespace", "", "only generate policies for workloads in this namespace")
	f.StringSliceVar(&o.skipNamespaces, "skip-namespace", []string{"kube-system"}, "namespaces to generate no policies for (their workloads still appear as peers)")
	o.overrides.addFlag(cmd)
	f.BoolVar(&o.defaultDeny, "default-deny", false, "also write a deny-all policy for every namespace that gets policies, and say which workloads it would cut off")
	f.Uint64Var(&o.minCount, "min-count", 0, "hold back edges seen fewer times than this")
	f.IntVar(&o.minPods, "min-pods", 0, "hold back edges seen from fewer pods than this")
	return cmd
}

func runGenerate(_ context.Context, o *generateOptions, s Streams) error {
	w, err := o.read()
	if err != nil {
		return err
	}
	ov, err := o.overrides.load()
	if err != nil {
		return err
	}
	opts := generatorOptions(ov, o.namespace, o.skipNamespaces)
	opts.MinCount, opts.MinPods, opts.DefaultDeny = o.minCount, o.minPods, o.defaultDeny
	res := generator.Generate(w, opts)
	reportGenerate(s.Err, res, opts.SkipNamespaces)
	if o.out == "-" {
		return generator.WriteStream(s.Out, res.Policies)
	}
	removed, err := generator.WriteDir(o.out, res.Policies)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.Err, "wrote %d policies for %s to %s\n", len(res.Policies), w.From.Format(time.RFC3339)+"/"+w.To.Format(time.RFC3339), o.out)
	for _, name := range removed {
		fmt.Fprintf(s.Err, "removed %s: its workload was not seen in the window\n", name)
	}
	return nil
}
