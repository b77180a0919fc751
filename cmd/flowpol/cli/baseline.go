package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/baseline/boltdb"
	"github.com/flowpol/flowpol/baseline/clickhouse"
	"github.com/flowpol/flowpol/internal/duration"
)

// retainFlags are the retention flags of the commands that learn into a
// baseline file.
type retainFlags struct {
	retain string
	bucket time.Duration
}

func (r *retainFlags) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.Var(positiveDuration(&r.bucket, time.Minute), "bucket", "finest time bucket width of a new baseline file (with the default retention's coarser tiers)")
	f.StringVar(&r.retain, "retain", "", `retention tiers, WIDTH:KEEP finest first, or "all" (default: the file's own; 1m:48h,1h:90d for a new file)`)
	cmd.MarkFlagsMutuallyExclusive("bucket", "retain")
}

// retention returns the tiers to open path with: nil keeps the file's own.
func (r *retainFlags) retention(cmd *cobra.Command, path string) (baseline.Retention, error) {
	if r.retain != "" {
		ret, err := baseline.ParseRetention(r.retain)
		if err != nil {
			return nil, fmt.Errorf("--retain: %w", err)
		}
		return ret, nil
	}
	if !cmd.Flags().Changed("bucket") || (!isClickHouse(path) && !isNewFile(path)) {
		return nil, nil // an existing file keeps its widths
	}
	ret := baseline.DefaultRetention()
	ret[0].Bucket = r.bucket
	if err := ret.Validate(); err != nil {
		return nil, fmt.Errorf("--bucket %s with the default tiers %s: %w; say all the tiers with --retain", duration.Format(r.bucket), baseline.DefaultRetention(), err)
	}
	return ret, nil
}

func isNewFile(path string) bool {
	fi, err := os.Stat(path)
	return errors.Is(err, os.ErrNotExist) || (err == nil && fi.Size() == 0)
}

// storeHelp is the help of --store.
const storeHelp = "the baseline: a file, or clickhouse://HOST:PORT/DATABASE?cluster=NAME (README: the ClickHouse store)"

// addStoreFlags adds --store and its alias --db, both into *location.
func addStoreFlags(cmd *cobra.Command, location *string) {
	f := cmd.Flags()
	f.StringVar(location, "store", "flowpol.db", storeHelp)
	f.StringVar(location, "db", "flowpol.db", "the same as --store")
	cmd.MarkFlagsMutuallyExclusive("store", "db")
}

// isClickHouse says a store location is a ClickHouse URL.
func isClickHouse(location string) bool { return strings.HasPrefix(location, "clickhouse://") }

// storeOptions are how a command opens its store.
type storeOptions struct {
	readOnly    bool
	retention   baseline.Retention
	lockTimeout time.Duration // a file's
}

// openStore opens the baseline a --store names, its notices (a migration,
// a compaction) on w.
func openStore(ctx context.Context, location string, o storeOptions, w io.Writer) (baseline.Store, error) {
	if isClickHouse(location) {
		return clickhouse.Open(ctx, location, clickhouse.Options{ReadOnly: o.readOnly, Retention: o.retention, Log: notice(w)})
	}
	return boltdb.Open(location, boltdb.Options{ReadOnly: o.readOnly, Retention: o.retention, Timeout: o.lockTimeout, Log: notice(w)})
}

// storeName names a store for people: a file's path, a URL without its
// password.
func storeName(store baseline.Store) string {
	switch s := store.(type) {
	case *boltdb.Store:
		return s.Path()
	case *clickhouse.Store:
		return s.URL()
	}
	return "baseline"
}

// storeBytes is what a store takes on disk.
func storeBytes(ctx context.Context, store baseline.Store) (int64, error) {
	switch s := store.(type) {
	case *boltdb.Store:
		fi, err := os.Stat(s.Path())
		if err != nil {
			return 0, err
		}
		return fi.Size(), nil
	case *clickhouse.Store:
		return s.DiskBytes(ctx)
	}
	return 0, nil
}

// closeInto closes c and joins what that says into *err: a deferred close
// of a store or file that was written to must not pass a failure over.
func closeInto(err *error, c io.Closer) { *err = errors.Join(*err, c.Close()) }
