package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowpol/flowpol/baseline/boltdb"
)

type compactOptions struct {
	db          string
	lockTimeout time.Duration
}

func newCompactCommand(s Streams) *cobra.Command {
	o := &compactOptions{}
	cmd := &cobra.Command{
		Use:   "compact --db FILE",
		Short: "Copy a baseline file into a fresh one without its free pages, in place",
		Long: `Compact copies the baseline into a fresh file and renames it over the old
one, so the file gives back the space retention freed. A crash at any
moment leaves the old file or the new one, whole. It waits --lock-timeout
for a process using the file (the aggregator compacts its own file when
much of it is free).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCompact(cmd.Context(), o, s) },
	}
	f := cmd.Flags()
	f.StringVar(&o.db, "db", "flowpol.db", "baseline file")
	f.DurationVar(&o.lockTimeout, "lock-timeout", time.Second, "how long to wait for another process to release the baseline file")
	return cmd
}

func runCompact(ctx context.Context, o *compactOptions, s Streams) error {
	if _, err := os.Stat(o.db); err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	store, err := boltdb.Open(o.db, boltdb.Options{Timeout: o.lockTimeout, Log: notice(s.Err)})
	if err != nil {
		return err
	}
	before, err := os.Stat(o.db)
	if err != nil {
		return errors.Join(err, store.Close())
	}
	if err := store.Compact(ctx); err != nil {
		return errors.Join(err, store.Close())
	}
	if err := store.Close(); err != nil {
		return err
	}
	after, err := os.Stat(o.db)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(s.Out, "%s: %d → %d bytes\n", o.db, before.Size(), after.Size())
	return err
}
