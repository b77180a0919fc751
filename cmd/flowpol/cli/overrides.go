package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/flowpol/flowpol/generator"
	"github.com/flowpol/flowpol/overrides"
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

// generatorOptions builds the generator's options; the overrides' skipped
// namespaces, when they list any, replace the flag's.
func generatorOptions(ov *overrides.Set, namespace string, skip []string) generator.Options {
	if ov != nil && ov.SkipNamespaces != nil {
		skip = ov.SkipNamespaces
	}
	return generator.Options{Namespace: namespace, SkipNamespaces: skip, Overrides: ov}
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
