package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/flowpol/flowpol/baseline/boltdb"
	"github.com/flowpol/flowpol/ingest"
	"github.com/flowpol/flowpol/learn"
	"github.com/flowpol/flowpol/topology"
)

type aggregatorOptions struct {
	cluster         clusterOptions
	db              string
	retain          retainFlags
	clusterCIDRs    []string
	lockTimeout     time.Duration
	maxWait         time.Duration
	listen          string
	healthListen    string
	tokenFile       string
	tlsCert, tlsKey string
	clientCA        string
	maxBatchBytes   int64
	maxBatchRecords int
	groupRecords    int
}

func newAggregatorCommand(s Streams) *cobra.Command {
	o := &aggregatorOptions{}
	cmd := &cobra.Command{
		Use:   "aggregator --token-file FILE (--inventory FILE | --kubeconfig FILE) [--db FILE]",
		Short: "Take batches of flows from the node agents into the baseline, and serve it",
		Long: `Aggregator accepts batches of flow records from the agents (POST
/api/v1/batches, with a bearer token or a client certificate), places each
end in the cluster (the live cluster through informers, as learn does, or an
inventory file), and adds the edges to the baseline file. A batch is
acknowledged once it is committed, with the agent's sequence number in the
same transaction, so a batch sent again after a timeout or a restart is not
counted twice. It serves the baseline to generate, check, diff and
topology --server (GET /api/v1/window), and /metrics, /healthz and /readyz.
It runs until interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAggregator(cmd, o, s)
		},
	}
	o.addFlags(cmd)
	return cmd
}

func (o *aggregatorOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.db, "db", "flowpol.db", "baseline file")
	f.StringSliceVar(&o.clusterCIDRs, "cluster-cidr", nil, "pod and service ranges: an unknown address in them is unresolved, not external")
	f.DurationVar(&o.lockTimeout, "lock-timeout", 10*time.Second, "how long to wait for another process to release the baseline file")
	f.DurationVar(&o.maxWait, "max-wait", 30*time.Second, "with a live cluster, how long a flow whose pod the cluster state does not show yet waits for it")
	f.StringVar(&o.listen, "listen", ":8443", "address of the API (batches, windows)")
	f.StringVar(&o.healthListen, "health-listen", ":9090", `address of a second listener for /metrics, /healthz and /readyz only, plain HTTP ("" for none)`)
	f.StringVar(&o.tokenFile, "token-file", "", "file of bearer tokens agents and readers present, one a line (read again when it changes)")
	f.StringVar(&o.tlsCert, "tls-cert", "", "serve HTTPS with this certificate")
	f.StringVar(&o.tlsKey, "tls-key", "", "the certificate's key")
	f.StringVar(&o.clientCA, "client-ca", "", "accept clients whose certificate this CA signed (mTLS; needs --tls-cert)")
	f.Int64Var(&o.maxBatchBytes, "max-batch-bytes", 8<<20, "refuse batches larger than this (413)")
	f.IntVar(&o.maxBatchRecords, "max-batch-records", 100_000, "refuse batches with more records than this (413)")
	f.IntVar(&o.groupRecords, "commit-records", 200_000, "records of the batches committed in one transaction, at most")
	cmd.MarkFlagsRequiredTogether("tls-cert", "tls-key")
	o.retain.addFlags(cmd)
	o.cluster.addFlags(cmd)
}

// errNoAuth says the aggregator would accept anyone.
var errNoAuth = errors.New("say how agents authenticate: --token-file FILE, or --client-ca FILE with --tls-cert and --tls-key")

func (o *aggregatorOptions) auth() (*ingest.TokenFile, error) {
	if o.clientCA != "" && o.tlsCert == "" {
		return nil, errors.New("--client-ca needs --tls-cert and --tls-key")
	}
	if o.tokenFile == "" {
		if o.clientCA == "" {
			return nil, errNoAuth
		}
		return nil, nil
	}
	return ingest.NewTokenFile(o.tokenFile)
}

// aggregatorRun is a running aggregator's parts.
type aggregatorRun struct {
	store *boltdb.Store
	sink  *ingest.Sink
	srv   *ingest.Server
	log   *slog.Logger
}

func runAggregator(cmd *cobra.Command, o *aggregatorOptions, s Streams) error {
	tokens, err := o.auth()
	if err != nil {
		return err
	}
	cidrs, err := (&learnOptions{clusterCIDRs: o.clusterCIDRs}).cidrs()
	if err != nil {
		return err
	}
	retention, err := o.retain.retention(cmd, o.db)
	if err != nil {
		return err
	}
	stateCtx, stopState := context.WithCancel(context.Background())
	defer stopState() // the informers outlive ctx until the last commit
	res, _, err := o.cluster.resolver(stateCtx, cidrs)
	if err != nil {
		return err
	}
	store, err := openBaseline(o.db, boltdb.Options{Timeout: o.lockTimeout, Retention: retention}, s.Err)
	if err != nil {
		return err
	}
	defer store.Close()
	l, err := (&learnOptions{from: "aggregator", maxWait: o.maxWait}).learner(res, store.Bucket(), true)
	if err != nil {
		return err
	}
	run := &aggregatorRun{store: store, log: slog.New(slog.NewTextHandler(s.Err, nil))}
	if err := o.build(cmd.Context(), run, l, tokens); err != nil {
		return err
	}
	return o.serve(cmd.Context(), run)
}

// build makes the metrics, the sink and the server.
func (o *aggregatorOptions) build(ctx context.Context, run *aggregatorRun, l *learn.Learner, tokens *ingest.TokenFile) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := ingest.NewAggregatorMetrics(reg)
	size := func() (int64, error) {
		fi, err := os.Stat(o.db)
		if err != nil {
			return 0, err
		}
		return fi.Size(), nil
	}
	sink, err := ingest.NewSink(ctx, run.store, l, ingest.SinkOptions{GroupRecords: o.groupRecords, Metrics: metrics, Size: size})
	if err != nil {
		return err
	}
	run.sink = sink
	window := func(from, to time.Time) (*topology.Window, error) {
		return run.store.Window(context.Background(), from, to)
	}
	run.srv = ingest.NewServer(ingest.ServerOptions{
		Sink: sink, Window: window, Tokens: tokens, ClientCerts: o.clientCA != "",
		MaxBatchBytes: o.maxBatchBytes, MaxBatchRecords: o.maxBatchRecords,
		Gatherer: reg, Metrics: metrics, Logger: run.log,
	})
	return nil
}

// serve runs the listeners and the sink until ctx ends or the sink fails;
// then it lets the requests in flight finish and commits.
func (o *aggregatorOptions) serve(ctx context.Context, run *aggregatorRun) error {
	servers, err := o.listenAll(run)
	if err != nil {
		return err
	}
	sinkCtx, stopSink := context.WithCancel(context.Background())
	sinkDone := make(chan error, 1)
	go func() { sinkDone <- run.sink.Run(sinkCtx) }()
	var sinkErr error
	select {
	case <-ctx.Done():
	case sinkErr = <-sinkDone:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, srv := range servers {
		srv.Shutdown(shutdownCtx) // requests still waiting after 30 s are cut off; agents send them again
	}
	stopSink()
	if sinkErr == nil {
		sinkErr = <-sinkDone
	}
	run.log.Info("aggregator stopped", "db", run.store.Path(), "delivered_agents", len(run.sink.Delivered()))
	return sinkErr
}

// listenAll starts the API listener and, when asked, the health one.
func (o *aggregatorOptions) listenAll(run *aggregatorRun) ([]*http.Server, error) {
	tlsCfg, err := o.tlsConfig()
	if err != nil {
		return nil, err
	}
	api, err := listen(o.listen, "--listen")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: run.srv, TLSConfig: tlsCfg, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	servers := []*http.Server{srv}
	scheme := "http"
	if tlsCfg != nil {
		scheme = "https"
		go srv.ServeTLS(api, "", "")
	} else {
		go srv.Serve(api)
	}
	run.log.Info("aggregator listening", "api", scheme+"://"+api.Addr().String(), "db", run.store.Path())
	if o.healthListen != "" {
		hl, err := listen(o.healthListen, "--health-listen")
		if err != nil {
			srv.Close()
			return nil, err
		}
		hs := &http.Server{Handler: run.srv.HealthHandler(), ReadHeaderTimeout: 10 * time.Second}
		go hs.Serve(hl)
		servers = append(servers, hs)
		run.log.Info("health and metrics listening", "addr", "http://"+hl.Addr().String())
	}
	return servers, nil
}

func (o *aggregatorOptions) tlsConfig() (*tls.Config, error) {
	if o.tlsCert == "" {
		return nil, nil
	}
	return ingest.ServerTLS(o.tlsCert, o.tlsKey, o.clientCA)
}

func listen(addr, flag string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return ln, nil
}
