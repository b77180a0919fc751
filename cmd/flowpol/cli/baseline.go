package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/baseline/boltdb"
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
	if !cmd.Flags().Changed("bucket") || !isNewFile(path) {
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

// openBaseline opens the baseline file at path, its notices (a migration,
// a compaction) on w.
func openBaseline(path string, opts boltdb.Options, w io.Writer) (*boltdb.Store, error) {
	opts.Log = notice(w)
	return boltdb.Open(path, opts)
}

// closeInto closes c and joins what that says into *err: a deferred close
// of a store or file that was written to must not pass a failure over.
func closeInto(err *error, c io.Closer) { *err = errors.Join(*err, c.Close()) }
