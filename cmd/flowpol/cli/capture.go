package cli

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/flowpol/flowpol/collector"
	"github.com/flowpol/flowpol/flow"
)

// captureOptions are the live collector's flags, shared by capture and
// learn.
type captureOptions struct {
	node        string
	flush       time.Duration
	mapSize     int
	tcpAttach   string
	metricsAddr string
}

func (o *captureOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.node, "node", "", "this node's name in records (default: $NODE_NAME, else the host name)")
	f.Var(positiveDuration(&o.flush, 5*time.Second), "flush", "how often repeated flows counted in the kernel are emitted")
	f.Var(positiveInt(&o.mapSize, 65536), "map-size", "entries of the kernel's flow maps")
	f.StringVar(&o.tcpAttach, "tcp-attach", "", "force a TCP attach point: tp_btf/inet_sock_set_state or tracepoint/sock/inet_sock_set_state (default: the first that works)")
	f.StringVar(&o.metricsAddr, "metrics-addr", "", "serve Prometheus metrics on this address, e.g. :9090")
}

// start loads and attaches the collector, and serves its metrics when
// asked; stop with the returned function.
func (o *captureOptions) start(ctx context.Context, log *slog.Logger) (*collector.Collector, func(), error) {
	node := o.node
	if node == "" {
		node = os.Getenv("NODE_NAME")
	}
	c, err := collector.New(collector.Options{Node: node, FlushInterval: o.flush, FlowsMapSize: o.mapSize, TCPAttach: o.tcpAttach, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector.NewMetrics(c.Stats))
	metrics, err := serveMetrics(o.metricsAddr, "--metrics-addr", reg, log)
	if err != nil {
		return nil, nil, errors.Join(err, c.Close())
	}
	stop := func() {
		metrics.Close()
		if err := c.Close(); err != nil { // detaching failed: say so, the process is ending anyway
			log.Error("close the collector", "err", err)
		}
	}
	return c, stop, nil
}

type captureCmdOptions struct {
	captureOptions
	out      string
	duration time.Duration
}

func newCaptureCommand(s Streams) *cobra.Command {
	o := &captureCmdOptions{}
	cmd := &cobra.Command{
		Use:   "capture [-o FILE] [--duration D]",
		Short: "Capture flows on this node and write them as flow records",
		Long: `Capture attaches flowpol's eBPF programs and writes a flow record (JSON
Lines) for every TCP connection established and every UDP flow, at either end,
as it happens; repeats are counted in the kernel and written every --flush.
It runs until interrupted or for --duration. It needs root, or CAP_BPF,
CAP_PERFMON and CAP_NET_ADMIN.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCapture(cmd.Context(), o, s)
		},
	}
	o.addFlags(cmd)
	cmd.Flags().StringVarP(&o.out, "output", "o", "-", `file to write records to, or "-" for standard output`)
	cmd.Flags().Var(nonNegativeDuration(&o.duration, 0), "duration", "stop after this long (default: until interrupted)")
	return cmd
}

func runCapture(ctx context.Context, o *captureCmdOptions, s Streams) error {
	log := slog.New(slog.NewTextHandler(s.Err, nil))
	c, stop, err := o.start(ctx, log)
	if err != nil {
		return err
	}
	defer stop()
	out, closeOut, err := openOutput(o.out, s.Out)
	if err != nil {
		return err
	}
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	w := flow.NewWriter(out)
	runErr := c.Run(ctx, func(r *flow.Record) error {
		if err := w.Write(r); err != nil {
			return err
		}
		return w.Flush()
	})
	if err := errors.Join(runErr, w.Flush(), closeOut()); err != nil {
		return err
	}
	st, err := c.Stats()
	if err != nil {
		return err
	}
	log.Info("capture ended", "new_flows", st.Events, "lost", st.Lost, "recycled", st.Recycled, "dns_answers", st.DNS, "dns_lost", st.DNSLost)
	return nil
}

func openOutput(path string, stdout io.Writer) (io.Writer, func() error, error) {
	if path == "-" {
		return stdout, func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	return f, f.Close, nil
}
