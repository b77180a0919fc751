package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowpol/flowpol/topology"
)

// windowOptions choose a window of a baseline, in a file or at an
// aggregator: the commands that read one share them.
type windowOptions struct {
	db          string
	server      serverOptions
	window      time.Duration
	until       string
	lockTimeout time.Duration
}

func (o *windowOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	addStoreFlags(cmd, &o.db)
	f.Var(positiveDuration(&o.window, 3*time.Hour), "window", "how far back from --until to look")
	f.StringVar(&o.until, "until", "", "end of the window, RFC 3339 (default now)")
	f.Var(positiveDuration(&o.lockTimeout, time.Second), "lock-timeout", "how long to wait for another process to release the baseline file")
	o.server.addFlags(cmd, "read the baseline from the aggregator at this URL instead of --store")
	cmd.MarkFlagsMutuallyExclusive("db", "server")
	cmd.MarkFlagsMutuallyExclusive("store", "server")
}

func (o *windowOptions) span(now time.Time) (from, to time.Time, err error) {
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

// read opens the baseline read-only, its notices on log, or asks the
// aggregator, and returns the window.
func (o *windowOptions) read(log io.Writer) (_ *topology.Window, err error) {
	from, to, err := o.span(time.Now())
	if err != nil {
		return nil, err
	}
	if o.server.given() {
		c, err := o.server.client()
		if err != nil {
			return nil, err
		}
		return c.Window(context.Background(), from, to)
	}
	store, err := openStore(context.Background(), o.db, storeOptions{lockTimeout: o.lockTimeout, readOnly: true}, log)
	if err != nil {
		return nil, err
	}
	defer closeInto(&err, store)
	return store.Window(context.Background(), from, to)
}
