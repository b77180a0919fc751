package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/ingest/server"
	"github.com/flowpol/flowpol/ingest/tlsconfig"
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
	dnsGrace        time.Duration
	listen          string
	healthListen    string
	tokenFile       string
	tlsCert, tlsKey string
	clientCA        string
	maxBatchBytes   int64
	maxBatchRecords int
	maxUploads      int
	bodyTimeout     time.Duration
	minBodyRate     int64
	groupRecords    int
	staged          stagedOptions
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
With --staged DIR or --staged-configmap NS/NAME, every committed flow is also
decided under those staged policies, as check decides it; what they would
deny is stored with the baseline and served on GET /api/v1/staged (flowpol
staged). It runs until interrupted.`,
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
	addStoreFlags(cmd, &o.db)
	f.StringSliceVar(&o.clusterCIDRs, "cluster-cidr", nil, "pod and service ranges: an unknown address in them is unresolved, not external")
	f.Var(positiveDuration(&o.lockTimeout, 10*time.Second), "lock-timeout", "how long to wait for another process to release the baseline file")
	f.Var(positiveDuration(&o.dnsGrace, time.Minute), "dns-grace", "how long past its TTL a DNS answer a pod received still names the external addresses it gave, for that pod's connections")
	f.Var(nonNegativeDuration(&o.maxWait, 30*time.Second), "max-wait", "with a live cluster, how long a flow whose pod the cluster state does not show yet waits for it")
	f.StringVar(&o.listen, "listen", ":8443", "address of the API (batches, windows)")
	f.StringVar(&o.healthListen, "health-listen", ":9090", `address of a second listener for /metrics, /healthz and /readyz only, plain HTTP ("" for none)`)
	f.StringVar(&o.tokenFile, "token-file", "", "file of bearer tokens agents and readers present, one a line (read again when it changes)")
	f.StringVar(&o.tlsCert, "tls-cert", "", "serve HTTPS with this certificate")
	f.StringVar(&o.tlsKey, "tls-key", "", "the certificate's key")
	f.StringVar(&o.clientCA, "client-ca", "", "accept clients whose certificate this CA signed (mTLS; needs --tls-cert)")
	f.Var(positiveInt64(&o.maxBatchBytes, 8<<20), "max-batch-bytes", "refuse batches larger than this (413)")
	f.Var(positiveInt(&o.maxBatchRecords, 100_000), "max-batch-records", "refuse batches with more records than this (413)")
	f.Var(positiveInt(&o.maxUploads, 32), "max-uploads", "request bodies read at once, at most; past it 503 with Retry-After")
	f.Var(positiveDuration(&o.bodyTimeout, 10*time.Second), "body-timeout", "grace a request body has before it must keep up with --min-body-rate")
	f.Var(positiveInt64(&o.minBodyRate, 64<<10), "min-body-rate", "slowest a request body may arrive, in bytes a second, after --body-timeout (408)")
	f.Var(positiveInt(&o.groupRecords, 200_000), "commit-records", "records of the batches committed in one transaction, at most")
	cmd.MarkFlagsRequiredTogether("tls-cert", "tls-key")
	o.retain.addFlags(cmd)
	o.cluster.addFlags(cmd)
	o.staged.addFlags(cmd)
}

// errNoAuth says the aggregator would accept anyone.
var errNoAuth = errors.New("say how agents authenticate: --token-file FILE, or --client-ca FILE with --tls-cert and --tls-key")

func (o *aggregatorOptions) auth(s Streams) (*server.TokenFile, error) {
	if o.clientCA != "" && o.tlsCert == "" {
		return nil, errors.New("--client-ca needs --tls-cert and --tls-key")
	}
	if o.tokenFile == "" {
		if o.clientCA == "" {
			return nil, errNoAuth
		}
		return nil, nil
	}
	return server.NewTokenFile(o.tokenFile, server.TokenFileOptions{Logger: slog.New(slog.NewTextHandler(s.Err, nil))})
}

// aggregatorRun is a running aggregator's parts.
type aggregatorRun struct {
	store  baseline.Store
	staged *stagedSource // nil when nothing is staged
	sink   *server.Sink
	srv    *server.Server
	log    *slog.Logger
	// newLearner makes a learner for a batch sent again (a shared store).
	newLearner func() (*learn.Learner, error)
}

func runAggregator(cmd *cobra.Command, o *aggregatorOptions, s Streams) (err error) {
	tokens, err := o.auth(s)
	if err != nil {
		return err
	}
	cidrs, err := (&learnOptions{clusterCIDRs: o.clusterCIDRs}).cidrs()
	if err != nil {
		return err
	}
	stateCtx, stopState := context.WithCancel(context.Background())
	defer stopState() // the informers outlive ctx until the last commit
	res, _, err := o.cluster.resolver(stateCtx, cidrs)
	if err != nil {
		return err
	}
	retention, err := o.retain.retention(cmd, o.db)
	if err != nil {
		return err
	}
	store, err := openStore(cmd.Context(), o.db, storeOptions{lockTimeout: o.lockTimeout, retention: retention}, s.Err)
	if err != nil {
		return err
	}
	defer closeInto(&err, store)
	l, err := (&learnOptions{from: "aggregator", maxWait: o.maxWait, dnsGrace: o.dnsGrace}).learner(res, store.Bucket(), true)
	if err != nil {
		return err
	}
	run := &aggregatorRun{store: store, log: slog.New(slog.NewTextHandler(s.Err, nil))}
	if run.staged, err = o.staged.open(cmd.Context(), store, o.cluster.kubeconfig, s, run.log); err != nil {
		return err
	}
	run.newLearner = func() (*learn.Learner, error) {
		return (&learnOptions{from: "aggregator", maxWait: o.maxWait}).learner(res, store.Bucket(), false)
	}
	if err := o.build(cmd.Context(), run, l, tokens); err != nil {
		return err
	}
	return o.serve(cmd.Context(), run)
}

// build makes the metrics, the sink and the server.
func (o *aggregatorOptions) build(ctx context.Context, run *aggregatorRun, l *learn.Learner, tokens *server.TokenFile) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := server.NewAggregatorMetrics(reg)
	size := func() (int64, error) { return storeBytes(ctx, run.store) }
	sinkOpts := server.SinkOptions{
		GroupRecords: o.groupRecords, Metrics: metrics, Size: size,
		Shared: isClickHouse(o.db), NewLearner: run.newLearner,
	}
	if run.staged != nil {
		// The Events are recorded beside the commits, never holding them up.
		sinkOpts.Staged = run.staged.tracker
		sinkOpts.FirstDenials = func(p []string) { go run.staged.firstDenials(p) }
		reg.MustRegister(server.NewStagedCollector(run.staged.tracker))
	}
	sink, err := server.NewSink(ctx, run.store, l, sinkOpts)
	if err != nil {
		return err
	}
	run.sink = sink
	window := func(from, to time.Time) (*topology.Window, error) {
		return run.store.Window(context.Background(), from, to)
	}
	run.srv = server.New(server.Options{
		Sink: sink, Window: window, Staged: sinkOpts.Staged, Tokens: tokens, ClientCerts: o.clientCA != "",
		MaxBatchBytes: o.maxBatchBytes, MaxBatchRecords: o.maxBatchRecords,
		MaxUploads: o.maxUploads, BodyTimeout: o.bodyTimeout, MinBodyRate: o.minBodyRate,
		Gatherer: reg, Metrics: metrics, Logger: run.log,
	})
	return nil
}

// serve runs the listeners and the sink until ctx ends, the sink fails or
// a listener does; then it lets the requests in flight finish and commits.
func (o *aggregatorOptions) serve(ctx context.Context, run *aggregatorRun) error {
	eps, err := o.listenAll(run)
	if err != nil {
		return err
	}
	serveCtx, stopServing := context.WithCancel(ctx)
	defer stopServing()
	go run.staged.follow(serveCtx, o.staged.refresh)
	sinkCtx, stopSink := context.WithCancel(context.Background())
	sinkDone := make(chan error, 1)
	go func() {
		sinkDone <- run.sink.Run(sinkCtx)
		stopServing()
	}()
	// Requests still waiting 30 s after the end are cut off; agents send
	// them again.
	serveErr := server.Serve(serveCtx, 30*time.Second, eps...)
	stopSink()
	err = errors.Join(serveErr, <-sinkDone)
	run.log.Info("aggregator stopped", "store", storeName(run.store), "delivered_agents", len(run.sink.Delivered()), "error", err)
	return err
}

// listenAll listens for the API and, when asked, the health endpoints.
func (o *aggregatorOptions) listenAll(run *aggregatorRun) ([]server.Endpoint, error) {
	tlsCfg, err := o.tlsConfig()
	if err != nil {
		return nil, err
	}
	api, err := listen(o.listen, "--listen")
	if err != nil {
		return nil, err
	}
	eps := []server.Endpoint{{Server: server.HTTPServer(run.srv, tlsCfg), Listener: api}}
	scheme := "http"
	if tlsCfg != nil {
		scheme = "https"
	}
	run.log.Info("aggregator listening", "api", scheme+"://"+api.Addr().String(), "store", storeName(run.store))
	if o.healthListen == "" {
		return eps, nil
	}
	hl, err := listen(o.healthListen, "--health-listen")
	if err != nil {
		return nil, errors.Join(err, api.Close())
	}
	run.log.Info("health and metrics listening", "addr", "http://"+hl.Addr().String())
	return append(eps, server.Endpoint{Server: server.HTTPServer(run.srv.HealthHandler(), nil), Listener: hl}), nil
}

func (o *aggregatorOptions) tlsConfig() (*tls.Config, error) {
	if o.tlsCert == "" {
		return nil, nil
	}
	return tlsconfig.Server(o.tlsCert, o.tlsKey, o.clientCA)
}

func listen(addr, flag string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return ln, nil
}
