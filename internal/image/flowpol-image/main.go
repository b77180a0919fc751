// Command flowpol-image builds flowpol's OCI image layout (make image) and
// pushes it to a registry (make image-push).
//
//	flowpol-image build --out bin/image --version v0.1.0 [--revision SHA] [--source-date-epoch N] [--url URL] [--platforms linux/amd64,linux/arm64]
//	flowpol-image push --layout bin/image REGISTRY/flowpol:v0.1.0
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/flowpol/flowpol/internal/image"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "flowpol-image:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage: flowpol-image build|push ...")

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errUsage
	}
	switch args[0] {
	case "build":
		return build(ctx, args[1:])
	case "push":
		return push(ctx, args[1:])
	}
	return errUsage
}

func build(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	out := fs.String("out", "bin/image", "the OCI image layout to write")
	var o image.Options
	fs.StringVar(&o.Version, "version", "", "the version the binary prints and the labels carry")
	fs.StringVar(&o.Revision, "revision", "", "the commit built (label)")
	fs.StringVar(&o.URL, "url", "", "the source repository (label)")
	epoch := fs.String("source-date-epoch", os.Getenv("SOURCE_DATE_EPOCH"), "seconds since 1970 stamped on every file and the config (default $SOURCE_DATE_EPOCH)")
	platforms := fs.String("platforms", strings.Join(image.DefaultPlatforms, ","), "os/arch pairs, comma-separated")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *epoch != "" {
		sec, err := strconv.ParseInt(*epoch, 10, 64)
		if err != nil {
			return fmt.Errorf("--source-date-epoch %q: %w", *epoch, err)
		}
		o.Created = time.Unix(sec, 0)
	}
	o.Platforms = strings.Split(*platforms, ",")
	idx, err := image.Build(ctx, o)
	if err != nil {
		return err
	}
	if err := image.WriteLayout(*out, idx); err != nil {
		return err
	}
	d, err := idx.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("%s: flowpol %s for %s, index %s\n", *out, o.Version, *platforms, d)
	return nil
}

func push(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	dir := fs.String("layout", "bin/image", "the OCI image layout to push")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("push: want one reference, REGISTRY/REPOSITORY:TAG")
	}
	d, err := image.Push(ctx, *dir, fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Printf("pushed %s@%s\n", fs.Arg(0), d)
	return nil
}
