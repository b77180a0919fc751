package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowpol/flowpol/policyfile"
	"github.com/flowpol/flowpol/ui"
)

type uiOptions struct {
	windowOptions
	generationOptions
	policies string
	listen   string
}

func newUICommand(s Streams) *cobra.Command {
	o := &uiOptions{}
	cmd := &cobra.Command{
		Use:   "ui (--db FILE | --server URL) [--window 3h] [--overrides FILE] [--policies DIR] [--listen 127.0.0.1:0]",
		Short: "Review the topology and the policies in a browser, and save the edits as overrides",
		Long: `UI serves a review page on this machine and prints its address, with the
random token every request needs: the observed topology as a map, grouped
by namespace, with the flows the policies there (--policies) or the page's
edits would deny in red; each workload's ingress and egress peers with a box
per observed edge; the policies generate gives for the edits, and their diff
against --policies; and "Save overrides", which writes the edits to the
--overrides file, atomically, keeping what the page did not touch. generate
--overrides FILE then gives the policies the page showed. Nothing else is
written. It listens on loopback unless --listen says otherwise, and runs
until interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runUI(cmd.Context(), o, s)
		},
	}
	o.windowOptions.addFlags(cmd)
	o.generationOptions.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.policies, "policies", "", `the policies there: mark the flows they would deny, and diff against them (a directory, or "-")`)
	f.StringVar(&o.listen, "listen", "127.0.0.1:0", "address to serve the page on (port 0: any free port)")
	return cmd
}

func runUI(ctx context.Context, o *uiOptions, s Streams) error {
	srv, err := o.server(s)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", o.listen, err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		fmt.Fprintf(s.Err, "warning: --listen %s is not loopback: anyone who has the address with its token can save overrides\n", o.listen)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(s.Out, "serving %s\n", srv.URL(ln.Addr()))
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shut); err != nil {
		return err
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// server reads the window and the policies there, and makes the page's
// server.
func (o *uiOptions) server(s Streams) (*ui.Server, error) {
	w, err := o.read(s.Err)
	if err != nil {
		return nil, err
	}
	gen, err := o.base()
	if err != nil {
		return nil, err
	}
	opts := ui.Options{Window: w, Generate: gen, OverridesPath: o.overrides.path}
	if _, err := o.overrides.load(); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err // a broken file is said now, not on the first click
	}
	if o.policies != "" {
		set, err := policiesFromFiles(o.policies, s, policyfile.Options{})
		if err != nil {
			return nil, err
		}
		opts.Policies, opts.HavePolicies = set.NetworkPolicies(), true
	}
	o.namespaceWarning(s.Err, w)
	return ui.New(opts)
}
