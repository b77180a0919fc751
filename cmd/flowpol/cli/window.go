package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowpol/flowpol/aggregator"
	"github.com/flowpol/flowpol/topology"
)

// windowOptions choose a window of a baseline file: the commands that read
// one share them.
type windowOptions struct {
	db          string
	window      time.Duration
	until       string
	lockTimeout time.Duration
}

func (o *windowOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.db, "db", "flowpol.db", "baseline file")
	f.DurationVar(&o.window, "window", 3*time.Hour, "how far back from --until to look")
	f.StringVar(&o.until, "until", "", "end of the window, RFC 3339 (default now)")
	f.DurationVar(&o.lockTimeout, "lock-timeout", time.Second, "how long to wait for another process to release the baseline file")
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

// read opens the baseline read-only and returns the window.
func (o *windowOptions) read() (*topology.Window, error) {
	from, to, err := o.span(time.Now())
	if err != nil {
		return nil, err
	}
	store, err := aggregator.Open(o.db, aggregator.StoreOptions{Timeout: o.lockTimeout, ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer store.Close()
	return store.Window(from, to)
}
