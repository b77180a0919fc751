//go:build linux

package demo

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// flowpolCmd prepares flowpol with args, and shows the command line. A
// cancelled ctx interrupts it as Ctrl-C would: learn keeps what it
// learned, enforce detaches.
func (d *demo) flowpolCmd(ctx context.Context, args ...string) *exec.Cmd {
	fmt.Fprintf(d.o.Out, "$ flowpol %s\n", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, d.o.Flowpol, args...)
	cmd.Env = append(os.Environ(), d.o.FlowpolEnv...)
	cmd.Stderr = d.o.Err
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// flowpol runs flowpol and returns its output and exit code.
func (d *demo) flowpol(ctx context.Context, args ...string) (string, int, error) {
	cmd := d.flowpolCmd(ctx, args...)
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ctx.Err() == nil {
		return string(out), ee.ExitCode(), nil
	}
	if err != nil {
		return string(out), -1, err
	}
	return string(out), 0, nil
}

// waitLine reads lines from r until match says yes, for at most timeout;
// every line is also given to each (when not nil). It goes on reading r
// to its end after it returns.
func waitLine(ctx context.Context, r io.ReadCloser, match func(string) bool, timeout time.Duration, each func(string)) error {
	found, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		seen := false
		eachLine(r, func(l string) {
			if each != nil {
				each(l)
			}
			if !seen && match(l) {
				seen = true
				close(found)
			}
		})
	}()
	select {
	case <-found:
		return nil
	case <-ended:
		return errors.New("it ended before it was ready")
	case <-time.After(timeout):
		return fmt.Errorf("not ready in %v", timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// eachLine calls f with each line of r, to its end, and closes r.
func eachLine(r io.ReadCloser, f func(string)) {
	defer r.Close() //nolint:errcheck // read to its end
	s := bufio.NewScanner(r)
	for s.Scan() {
		f(s.Text())
	}
}

func hasPrefix(p string) func(string) bool {
	return func(s string) bool { return strings.HasPrefix(s, p) }
}

// started is a flowpol command running in the background, its output
// read line by line.
type started struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	pipes  []*os.File // the writing ends, until the command has them
}

// start starts the command and closes this process's copies of the pipes'
// writing ends, so that their readers see the end when the command ends.
func (s *started) start() error {
	err := s.cmd.Start()
	for _, p := range s.pipes {
		err = errors.Join(err, p.Close())
	}
	s.pipes = nil
	return err
}

// wait waits for the command.
func (s *started) wait() error {
	return s.cmd.Wait()
}

// pipe gives a pipe's writing end to the command, and its reading end
// back; the reader closes it at its end.
func (s *started) pipe() (*os.File, io.ReadCloser, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	s.pipes = append(s.pipes, w)
	return w, r, nil
}

func (d *demo) learn(ctx context.Context) error {
	s := &started{cmd: d.flowpolCmd(ctx, "learn", "--window", d.o.Learn.String(), "--flush", "1s", "--node", nodeName,
		"--inventory", d.path("cluster.yaml"), "--db", d.path("flowpol.db"))}
	s.cmd.Stdout = &s.stdout
	w, stderr, err := s.pipe()
	if err != nil {
		return err
	}
	s.cmd.Stderr = w
	if err := s.start(); err != nil {
		return err
	}
	// The collector logs "capture attached" once every new flow is seen.
	attached := func(l string) bool { return strings.Contains(l, "capture attached") }
	if err := waitLine(ctx, stderr, attached, time.Minute, func(l string) { fmt.Fprintln(d.o.Err, l) }); err != nil {
		return errors.Join(fmt.Errorf("flowpol learn: %w", err), s.wait())
	}
	_, _, driveErr := d.drive(ctx, max(d.o.Learn-2*time.Second, time.Second))
	if err := s.wait(); err != nil {
		return fmt.Errorf("flowpol learn: %w", err)
	}
	fmt.Fprint(d.o.Out, s.stdout.String())
	return driveErr
}

var loadgenResult = regexp.MustCompile(`(\d+) of (\d+) requests succeeded`)

// drive runs the load generator for d and returns how many of its requests
// through the whole app succeeded.
func (d *demo) drive(ctx context.Context, dur time.Duration) (ok, total int, err error) {
	out, err := d.inPod(ctx, "loadgen", "loadgen", "target="+frontendURL, "duration="+dur.String(), "dns="+find(d.apps, "coredns").listen())
	if err != nil {
		return 0, 0, err
	}
	m := loadgenResult.FindStringSubmatch(out)
	if m == nil {
		return 0, 0, fmt.Errorf("load generator: %q", out)
	}
	ok, _ = strconv.Atoi(m[1])
	total, _ = strconv.Atoi(m[2])
	fmt.Fprintf(d.o.Out, "load generator: %s\n", strings.ReplaceAll(out, "\n", "; "))
	return ok, total, nil
}

func (d *demo) generate(ctx context.Context) error {
	dir := d.path("policies")
	if _, code, err := d.flowpol(ctx, "generate", "--db", d.path("flowpol.db"), "--window", "1h", "-o", dir); err != nil || code != 0 {
		return errors.Join(err, fmt.Errorf("exit %d", code))
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		fmt.Fprintf(d.o.Out, "\n# %s\n%s", filepath.Base(f), b)
	}
	return nil
}

func (d *demo) topology(ctx context.Context) error {
	out, code, err := d.flowpol(ctx, "topology", "--db", d.path("flowpol.db"), "--window", "1h")
	if err != nil || code != 0 {
		return errors.Join(err, fmt.Errorf("exit %d", code))
	}
	fmt.Fprint(d.o.Out, out)
	page, code, err := d.flowpol(ctx, "topology", "--db", d.path("flowpol.db"), "--window", "1h", "--format", "html")
	if err != nil || code != 0 {
		return errors.Join(err, fmt.Errorf("exit %d", code))
	}
	if err := os.WriteFile(d.path("topology.html"), []byte(page), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(d.o.Out, "the same as a picture: %s\n", d.path("topology.html"))
	return nil
}

func (d *demo) check(ctx context.Context) error {
	out, code, err := d.flowpol(ctx, "check", "--db", d.path("flowpol.db"), "--window", "1h", "--policies", d.path("policies"))
	if err != nil {
		return err
	}
	fmt.Fprint(d.o.Out, out)
	if code != 0 {
		return fmt.Errorf("exit %d: the generated policies would deny observed flows", code)
	}
	return nil
}
