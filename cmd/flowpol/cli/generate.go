package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowpol/flowpol/aggregator"
	"github.com/flowpol/flowpol/generator"
)

type generateOptions struct {
	db             string
	window         time.Duration
	until          string
	out            string
	namespace      string
	skipNamespaces []string
	lockTimeout    time.Duration
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
	f := cmd.Flags()
	f.StringVar(&o.db, "db", "flowpol.db", "baseline file")
	f.DurationVar(&o.window, "window", 3*time.Hour, "how far back from --until to look")
	f.StringVar(&o.until, "until", "", "end of the window, RFC 3339 (default now)")
	f.StringVarP(&o.out, "output", "o", "-", `directory to write policies to, or "-" for standard output`)
	f.StringVar(&o.namespace, "namespace", "", "only generate policies for workloads in this namespace")
	f.StringSliceVar(&o.skipNamespaces, "skip-namespace", []string{"kube-system"}, "namespaces to generate no policies for (their workloads still appear as peers)")
	f.DurationVar(&o.lockTimeout, "lock-timeout", time.Second, "how long to wait for another process to release the baseline file")
	return cmd
}

func (o *generateOptions) span(now time.Time) (from, to time.Time, err error) {
	to = now
	if o.until != "" {
		if to, err = time.Parse(time.RFC3339Nano, o.until); err != nil {
			return from, to, fmt.Errorf("--until %q: not an RFC 3339 time", o.until)
		}
	}
	if o.window <= 0 {
		return from, to, fmt.Errorf("--window %v: must be positive", o.window)
	}
	return to.Add(-o.window), to, nil
}

func runGenerate(_ context.Context, o *generateOptions, s Streams) error {
	from, to, err := o.span(time.Now())
	if err != nil {
		return err
	}
	store, err := aggregator.Open(o.db, aggregator.StoreOptions{Timeout: o.lockTimeout, ReadOnly: true})
	if err != nil {
		return err
	}
	defer store.Close()
	w, err := store.Window(from, to)
	if err != nil {
		return err
	}
	res := generator.Generate(w, generator.Options{Namespace: o.namespace, SkipNamespaces: o.skipNamespaces})
	for _, msg := range res.Warnings {
		fmt.Fprintf(s.Err, "warning: %s\n", msg)
	}
	if len(o.skipNamespaces) > 0 {
		fmt.Fprintf(s.Err, "skipped namespaces: %v (set --skip-namespace to change)\n", o.skipNamespaces)
	}
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
