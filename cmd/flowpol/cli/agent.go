package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/flowpol/flowpol/collector"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/ingest/agent"
)

type agentOptions struct {
	capture       captureOptions
	server        serverOptions
	from          string
	spool         string
	spoolMaxBytes int64
	batchRecords  int
	batchInterval time.Duration
	aggregate     time.Duration
	minBackoff    time.Duration
	maxBackoff    time.Duration
	authFailures  int
}

func newAgentCommand(s Streams) *cobra.Command {
	o := &agentOptions{}
	cmd := &cobra.Command{
		Use:   "agent --server URL[,URL...] --token-file FILE [--from FILE] [--spool DIR]",
		Short: "Capture this node's flows and ship them to the aggregator",
		Long: `Agent captures this node's flows, as capture does (or, with --from, replays
flow records from a file, "-" for standard input), merges repeats, and seals
them into batches in an on-disk spool at least every --batch-interval. It
ships the oldest batch to the aggregator, one at a time, until acknowledged,
retrying with exponential backoff, so that an aggregator restart loses
nothing; when the spool is full the oldest batches are dropped and counted.
With --from it exits once everything read is acknowledged. Capture needs
root, or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAgent(cmd.Context(), o, s)
		},
	}
	o.addFlags(cmd)
	return cmd
}

func (o *agentOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	o.server.addFlags(cmd, "the aggregator's URL, e.g. http://flowpol-aggregator.flowpol:8443; several (comma-separated or repeated) are tried in turn, moving on when one fails")
	cmd.MarkFlagRequired("server")
	f.StringVar(&o.from, "from", "", `replay flow records from this file ("-" for standard input) instead of capturing`)
	f.StringVar(&o.spool, "spool", "/var/lib/flowpol/spool", "directory of the batches waiting to be shipped")
	f.Var(positiveInt64(&o.spoolMaxBytes, 256<<20), "spool-max-bytes", "spool size above which the oldest batches are dropped")
	f.Var(positiveInt(&o.batchRecords, 10_000), "batch-records", "records (after merging repeats) per batch, at most")
	f.Var(positiveDuration(&o.batchInterval, time.Second), "batch-interval", "seal a batch at least this often")
	f.Var(nonNegativeDuration(&o.aggregate, time.Second), "aggregate", "merge repeats of a flow within this window (0 merges nothing)")
	f.Var(positiveDuration(&o.minBackoff, 200*time.Millisecond), "min-backoff", "first wait before shipping a batch again")
	f.Var(positiveDuration(&o.maxBackoff, 30*time.Second), "max-backoff", "longest wait before shipping a batch again")
	f.Var(positiveInt(&o.authFailures, 4), "auth-failures", "refusals (401) of the same token in a row after which the agent stops sending it: with --from it exits, capturing it waits for the token file to change")
	o.capture.addFlags(cmd)
}

func (o *agentOptions) nodeName() string {
	if o.capture.node != "" {
		return o.capture.node
	}
	if n := os.Getenv("NODE_NAME"); n != "" { // the downward API
		return n
	}
	n, _ := os.Hostname()
	return n
}

// agentParts are a running agent's pieces.
type agentParts struct {
	agent *agent.Agent
	spool *agent.Spool
	reg   *prometheus.Registry
	log   *slog.Logger
	node  string
}

func runAgent(ctx context.Context, o *agentOptions, s Streams) error {
	log := slog.New(slog.NewTextHandler(s.Err, nil))
	var c *collector.Collector
	if o.from == "" {
		var stop func()
		var err error
		if c, stop, err = (&captureOptions{node: o.nodeName(), flush: o.capture.flush, mapSize: o.capture.mapSize, tcpAttach: o.capture.tcpAttach}).start(ctx, log); err != nil {
			return err
		}
		defer stop()
	}
	p, err := o.build(c, log)
	if err != nil {
		return err
	}
	metrics, err := serveMetrics(o.capture.metricsAddr, "--metrics-addr", p.reg, log)
	if err != nil {
		return err
	}
	defer metrics.Close()
	ctx, failed := context.WithCancelCause(ctx)
	defer failed(nil)
	go func() {
		select {
		case <-metrics.Failed():
			failed(metrics.Err()) // a daemon nobody can watch is stopped
		case <-ctx.Done():
		}
	}()
	shipCtx, stopShip := context.WithCancel(context.Background())
	shipped := make(chan struct{})
	go func() {
		defer close(shipped)
		if err := p.agent.Ship(shipCtx); err != nil {
			failed(o.shipError(err))
		}
	}()
	defer func() { stopShip(); <-shipped }()
	if c == nil {
		return o.replay(ctx, p, s)
	}
	return o.live(ctx, p, c)
}

// shipError says why shipping stopped, naming the token file.
func (o *agentOptions) shipError(err error) error {
	if o.server.tokenFile == "" {
		return fmt.Errorf("ship to %s: %w", o.server.String(), err)
	}
	return fmt.Errorf("ship to %s with the token in %s: %w", o.server.String(), o.server.tokenFile, err)
}

// build opens the spool and makes the agent, its client and its metrics,
// with the collector's when capturing (c is nil when replaying).
func (o *agentOptions) build(c *collector.Collector, log *slog.Logger) (*agentParts, error) {
	if o.aggregate == 0 {
		o.aggregate = -1 // the flag's 0 merges nothing; the option's zero is the default
	}
	p := &agentParts{node: o.nodeName(), reg: prometheus.NewRegistry(), log: log}
	cl, err := o.server.client()
	if err != nil {
		return nil, err
	}
	if p.spool, err = agent.OpenSpool(agent.SpoolOptions{Dir: o.spool, MaxBytes: o.spoolMaxBytes, Node: p.node}); err != nil {
		return nil, err
	}
	p.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	opts := agent.Options{
		Client: cl, Spool: p.spool, Node: p.node, BatchRecords: o.batchRecords, Aggregate: o.aggregate,
		MinBackoff: o.minBackoff, MaxBackoff: o.maxBackoff, Metrics: agent.NewMetrics(p.reg), Logger: p.log,
		AuthFailures: o.authFailures, WaitForToken: c != nil, // a daemon waits for a new token; a replay stops
	}
	if c != nil {
		p.reg.MustRegister(collector.NewMetrics(c.Stats))
		opts.RingLost = func() uint64 {
			st, _ := c.Stats() // on error, no losses are reported
			return st.Lost
		}
	}
	p.agent, err = agent.New(opts)
	if err != nil {
		return nil, err
	}
	if n, _ := p.spool.Len(); n > 0 {
		p.log.Info("spool holds batches from before", "batches", n, "spool", o.spool)
	}
	return p, nil
}

// replay reads records from --from, ships them, and waits until the
// aggregator has them all. On a malformed record it ships those before it
// and fails naming the line.
func (o *agentOptions) replay(ctx context.Context, p *agentParts, s Streams) (err error) {
	in, name, err := openInput(o.from, s.In)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, in.Close()) }()
	sealCtx, stopSeal := context.WithCancel(ctx)
	defer stopSeal()
	go o.sealEvery(sealCtx, p)
	rd := flow.NewReader(in, name)
	n, readErr := 0, error(nil)
	for ctx.Err() == nil {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		n++
		if err := p.agent.Add(rec); err != nil {
			return err
		}
	}
	stopSeal()
	if err := p.agent.Seal(); err != nil {
		return err
	}
	if err := p.agent.WaitShipped(ctx); err != nil {
		return fmt.Errorf("batches still to ship stay in %s for the next run: %w", o.spool, err)
	}
	if readErr != nil {
		return fmt.Errorf("%w\nthe %d records before it were shipped", readErr, n)
	}
	_, err = fmt.Fprintf(s.Out, "agent %s: shipped %d records from %s\n", p.spool.Agent(), n, name)
	return err
}

// live captures until ctx ends, then seals what is left; the spool keeps
// what could not be shipped for the next start.
func (o *agentOptions) live(ctx context.Context, p *agentParts, c *collector.Collector) error {
	sealCtx, stopSeal := context.WithCancel(ctx)
	defer stopSeal()
	go o.sealEvery(sealCtx, p)
	runErr := c.Run(ctx, p.agent.Add)
	stopSeal()
	if err := p.agent.Seal(); err != nil {
		return errors.Join(runErr, err)
	}
	drainCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.agent.WaitShipped(drainCtx); err != nil {
		n, _ := p.spool.Len()
		p.log.Info("batches left in the spool for the next start", "batches", n)
	}
	if err := context.Cause(ctx); !errors.Is(err, context.Canceled) {
		runErr = errors.Join(runErr, err) // shipping or the metrics failed
	}
	return runErr
}

// sealEvery seals a batch every --batch-interval; a failure is logged, and
// the next full batch reports it as an error.
func (o *agentOptions) sealEvery(ctx context.Context, p *agentParts) {
	if err := p.agent.SealEvery(ctx, o.batchInterval); err != nil {
		p.log.Error("seal batch", "error", err)
	}
}
