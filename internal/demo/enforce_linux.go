//go:build linux

package demo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"
)

// An expectation is a connection and what enforcement should do with it.
type expectation struct {
	from, to string // pods
	learned  bool   // made while learning: still allowed
}

func (d *demo) expectations() []expectation {
	return []expectation{
		{from: "catalog", to: "postgres", learned: true},
		{from: "cart", to: "payments", learned: true},
		{from: "frontend", to: "postgres"},
		{from: "loadgen", to: "redis"},
	}
}

// enforce runs flowpol enforce on the node's veths, drives the app through
// it, and probes a learned and never-seen connections. A flowpol that
// cannot enforce fails the demo.
func (d *demo) enforce(ctx context.Context) error {
	fr, pg := find(d.apps, "frontend"), find(d.apps, "postgres")
	before, err := d.inPod(ctx, "frontend", "probe", "target="+pg.listen())
	if err != nil {
		return err
	}
	fmt.Fprintf(d.o.Out, "before: %s -> %s, never seen while learning: %s\n", fr.ref(), pg.target(), before)
	s, err := d.startEnforce(ctx)
	if err != nil {
		return err
	}
	failed := d.verify(ctx)
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop flowpol enforce: %w", err)
	}
	if err := s.wait(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("flowpol enforce: %w", err)
	}
	if failed != nil {
		return errors.Join(ErrUnexpected, failed)
	}
	fmt.Fprintf(d.o.Out, "enforced: the learned traffic flows, the connections nobody made while learning are dropped\n")
	return nil
}

// startEnforce starts flowpol enforce and waits until it says it is
// attached. Its log (one line per dropped connection) is shown indented.
func (d *demo) startEnforce(ctx context.Context) (*started, error) {
	var ifaces []string
	for _, w := range d.apps {
		if w.namespace != "" {
			ifaces = append(ifaces, d.pods[w.pod].HostIface)
		}
	}
	s := &started{cmd: d.flowpolCmd(ctx, "enforce", "--mode", "enforce", "--policies", d.path("policies"), "--inventory", d.path("cluster.yaml"),
		"--netns", d.node.Netns, "--iface", strings.Join(ifaces, ","))}
	w, stdout, err := s.pipe()
	if err != nil {
		return nil, err
	}
	s.cmd.Stdout = w
	w, stderr, err := s.pipe()
	if err != nil {
		return nil, err
	}
	s.cmd.Stderr = w
	if err := s.start(); err != nil {
		return nil, err
	}
	show := func(l string) { fmt.Fprintf(d.o.Out, "  | %s\n", l) }
	go eachLine(stderr, show)
	if err := waitLine(ctx, stdout, hasPrefix("ready:"), 30*time.Second, show); err != nil {
		return nil, errors.Join(fmt.Errorf("flowpol enforce: %w", err), s.cmd.Process.Signal(syscall.SIGTERM), s.wait())
	}
	return s, nil
}

// verify drives the app and probes the expectations; it returns what did
// not go as expected.
func (d *demo) verify(ctx context.Context) error {
	var errs []error
	ok, total, err := d.drive(ctx, 3*time.Second)
	switch {
	case err != nil:
		errs = append(errs, err)
	case ok != total || total == 0:
		errs = append(errs, fmt.Errorf("%d of %d requests through the app failed", total-ok, total))
		fmt.Fprintf(d.o.Out, "FAIL  the learned traffic: %d of %d requests through the whole app failed\n", total-ok, total)
	default:
		fmt.Fprintf(d.o.Out, "ok    the learned traffic: %d of %d requests through the whole app succeeded\n", ok, total)
	}
	for _, e := range d.expectations() {
		from, to := find(d.apps, e.from), find(d.apps, e.to)
		got, err := d.inPod(ctx, e.from, "probe", "target="+to.listen())
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		want, why := "dropped", "never seen while learning"
		if e.learned {
			want, why = "connected", "learned"
		}
		mark := "ok  "
		if got != want {
			mark = "FAIL"
			errs = append(errs, fmt.Errorf("%s -> %s: %s, want %s", e.from, e.to, got, want))
		}
		fmt.Fprintf(d.o.Out, "%s  %s -> %s (%s): %s\n", mark, from.ref(), to.target(), why, got)
	}
	return errors.Join(errs...)
}
