// Command flowpol-demo is flowpol's first run: it builds a small cluster of
// network-namespace pods on this machine, runs a microservice app in them,
// learns its traffic, generates, checks and enforces the policies, and
// removes everything it made (see internal/demo). It needs Linux and root:
// sudo make demo.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/flowpol/flowpol/internal/demo"
)

func main() {
	demo.MaybeRunRole()
	o := demo.Options{Out: os.Stdout, Err: os.Stderr}
	f := flag.NewFlagSet("flowpol-demo", flag.ExitOnError)
	f.StringVar(&o.Flowpol, "flowpol", "", "the flowpol program (default: beside this one, else on $PATH)")
	f.DurationVar(&o.Learn, "learn", 0, "how long to learn (default 30s)")
	f.StringVar(&o.Dir, "dir", "", "keep the inventory, baseline, policies and topology page here (default: a temporary directory, removed)")
	_ = f.Parse(os.Args[1:]) // ExitOnError: a bad flag exits with its usage
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := demo.Run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "flowpol-demo: %v\n", err)
		os.Exit(1)
	}
}
