package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowpol/flowpol/baseline"
)

type statusOptions struct {
	db          string
	format      string
	lockTimeout time.Duration
}

func newStatusCommand(s Streams) *cobra.Command {
	o := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status --db FILE [--format text|json]",
		Short: "Describe a baseline file: schema, size, edges, tiers and learning runs",
		Long: `Status describes a baseline file: its schema, its size in bytes, how many
edges it holds, and for each tier of its retention the bucket width, how
long buckets are kept, how many cells it holds and the oldest; then the
learning runs recorded in it, oldest first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runStatus(cmd.Context(), o, s) },
	}
	f := cmd.Flags()
	addStoreFlags(cmd, &o.db)
	f.StringVar(&o.format, "format", "text", "output: text or json")
	f.DurationVar(&o.lockTimeout, "lock-timeout", time.Second, "how long to wait for another process to release the baseline file")
	return cmd
}

func runStatus(ctx context.Context, o *statusOptions, s Streams) (err error) {
	if o.format != "text" && o.format != "json" {
		return fmt.Errorf("--format %q: want text or json", o.format)
	}
	store, err := openStore(ctx, o.db, storeOptions{readOnly: true, lockTimeout: o.lockTimeout}, s.Err)
	if err != nil {
		return err
	}
	defer closeInto(&err, store)
	st, err := store.Status(ctx)
	if err != nil {
		return err
	}
	if o.format == "json" {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	return writeStatus(s.Out, storeName(store), st)
}

// notice writes a store's notices, such as a migration, to w.
func notice(w io.Writer) func(string) {
	return func(msg string) { fmt.Fprintln(w, msg) }
}

func writeStatus(out io.Writer, path string, st baseline.Status) error {
	fmt.Fprintf(out, "%s: schema %d, %d bytes, %d edges\n\n", path, st.Schema, st.FileBytes, st.Edges)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BUCKET\tKEEP\tCELLS\tOLDEST")
	for _, t := range st.Tiers {
		oldest := "-"
		if !t.Oldest.IsZero() {
			oldest = t.Oldest.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", t.Bucket, t.Keep, t.Cells, oldest)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "\n%d learning runs\n", len(st.Runs))
	if len(st.Runs) == 0 {
		return nil
	}
	fmt.Fprintln(tw, "STARTED\tSOURCE\tRECORDS\tCONNECTIONS\tEDGES\tNEW EDGES\tERROR")
	for _, r := range st.Runs {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s\n", r.Started.UTC().Format(time.RFC3339), orDash(r.Source), r.Records, r.Connections, r.Edges, r.NewEdges, orDash(r.Error))
	}
	return tw.Flush()
}
