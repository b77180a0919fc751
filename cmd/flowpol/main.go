// Command flowpol learns a Kubernetes cluster's traffic and recommends the
// NetworkPolicies that allow exactly what it saw.
package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/flowpol/flowpol/cmd/flowpol/cli"
)

func main() {
	cli.LimitMemory(os.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.RunAs(ctx, filepath.Base(os.Args[0]), os.Args[1:], cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	stop()
	os.Exit(code)
}
