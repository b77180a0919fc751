package cli

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/hubble"
	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/learn"
	"github.com/flowpol/flowpol/resolve"
)

type learnOptions struct {
	capture      captureOptions
	cluster      clusterOptions
	window       time.Duration
	from         string
	db           string
	batchRecords int
	retain       retainFlags
	clusterCIDRs []string
	lockTimeout  time.Duration
	maxWait      time.Duration
	dnsGrace     time.Duration
	inputFormat  string
}

func newLearnCommand(s Streams) *cobra.Command {
	o := &learnOptions{}
	cmd := &cobra.Command{
		Use:   "learn (--from FILE | --window 3h) (--inventory FILE | --kubeconfig FILE) [--db FILE]",
		Short: "Learn flow records, or live traffic, into the baseline",
		Long: `Learn reads flow records (JSON Lines, "-" for standard input) or, with
--window and no --from, captures this node's traffic live for that long; it
places each end in the cluster the inventory describes (or, with --kubeconfig,
the live cluster, followed as it changes), and adds the edges to the baseline
file. Learning again adds to the same file. Ctrl-C ends a live
run early and keeps everything learned. Live capture needs root, or CAP_BPF,
CAP_PERFMON and CAP_NET_ADMIN.

Records are committed in batches: a malformed line stops learning with an
error naming the file, line and field, and the baseline keeps the whole
batches before it (the error says up to which line) and nothing after.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runLearn(cmd, o, s)
		},
	}
	o.addFlags(cmd)
	return cmd
}

func (o *learnOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.from, "from", "", `flow records to read, JSON Lines; "-" for standard input`)
	f.Var(positiveDuration(&o.window, 0), "window", "capture live for this long (without --from)")
	addStoreFlags(cmd, &o.db)
	f.Var(positiveInt(&o.batchRecords, learn.DefaultBatchRecords), "batch-records", "records per committed batch")
	f.StringSliceVar(&o.clusterCIDRs, "cluster-cidr", nil, "pod and service ranges: an unknown address in them is unresolved, not external (nodes' podCIDRs are always included)")
	f.Var(positiveDuration(&o.lockTimeout, time.Second), "lock-timeout", "how long to wait for another process to release the baseline file")
	f.Var(nonNegativeDuration(&o.maxWait, 30*time.Second), "max-wait", "with --kubeconfig, how long a flow whose pod the cluster state does not show yet waits for it")
	f.StringVar(&o.inputFormat, "input-format", "flow", `what --from holds: "flow" (flow records) or "hubble" (hubble observe -o json)`)
	f.Var(positiveDuration(&o.dnsGrace, time.Minute), "dns-grace", "how long past its TTL a DNS answer a pod received still names the external addresses it gave, for that pod's connections")
	o.retain.addFlags(cmd)
	o.cluster.addFlags(cmd)
	cmd.MarkFlagsMutuallyExclusive("from", "window")
	cmd.MarkFlagsOneRequired("from", "window")
	o.capture.addFlags(cmd)
}

func (o *learnOptions) cidrs() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, c := range o.clusterCIDRs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("--cluster-cidr %q: %w", c, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func runLearn(cmd *cobra.Command, o *learnOptions, s Streams) (err error) {
	cidrs, err := o.cidrs()
	if err != nil {
		return err
	}
	switch {
	case o.inputFormat != "flow" && o.inputFormat != "hubble":
		return fmt.Errorf("--input-format %q: want flow or hubble", o.inputFormat)
	case o.inputFormat == "hubble" && o.from == "":
		return fmt.Errorf("--input-format hubble needs --from")
	}
	retention, err := o.retain.retention(cmd, o.db)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel() // stops the informers
	res, inv, err := o.cluster.resolver(ctx, cidrs)
	if err != nil {
		return err
	}
	source := "cluster: live, through the API server"
	if inv != nil { // nil: the live cluster's
		for _, w := range inv.Warnings() {
			fmt.Fprintf(s.Err, "warning: %s\n", w)
		}
		source = fmt.Sprintf("inventory: %d objects%s", inv.Objects(), countsLine(", skipped ", toUint64(inv.Skipped)))
	}
	var rd learn.Records // nil: live
	var hr *hubble.Reader
	if o.from != "" {
		in, name, err := openInput(o.from, s.In)
		if err != nil {
			return err
		}
		defer in.Close() //nolint:errcheck // read only
		if o.inputFormat == "hubble" {
			hr = hubble.NewReader(in, name, hubble.Options{PodUID: podUIDs(inv)})
			rd = hr
		} else {
			rd = flow.NewReader(in, name)
		}
	}
	store, err := openStore(ctx, o.db, storeOptions{lockTimeout: o.lockTimeout, retention: retention}, s.Err)
	if err != nil {
		return err
	}
	defer closeInto(&err, store)
	l, err := o.learner(res, store.Bucket(), false)
	if err != nil {
		return err
	}
	start := time.Now()
	batch := learn.BatchOptions{BatchRecords: o.batchRecords}
	var run baseline.Run
	var learnErr error
	if rd != nil {
		run, learnErr = learn.FromReader(ctx, rd, l, store, batch)
	} else {
		run, learnErr = learnLive(ctx, o, s, learn.NewBatcher(l, store, batch))
	}
	if hr != nil {
		printSkipped(s.Err, hr.Skipped())
	}
	return finishLearn(ctx, o, s, store, source, run, learnErr, time.Since(start))
}

// podUIDs looks pods up by namespace and name in the inventory, for the
// Hubble flows' attribution; nil without one (the live cluster's pods are
// placed by address).
func podUIDs(inv *inventory.Inventory) func(ns, name string) string {
	if inv == nil {
		return nil
	}
	uids := make(map[[2]string]string, len(inv.Pods))
	for _, p := range inv.Pods {
		uids[[2]string{p.Namespace, p.Name}] = string(p.UID)
	}
	return func(ns, name string) string { return uids[[2]string{ns, name}] }
}

// printSkipped says which Hubble flows gave no record, and why.
func printSkipped(w io.Writer, skipped map[string]uint64) {
	reasons := slices.Sorted(maps.Keys(skipped))
	for _, r := range reasons {
		fmt.Fprintf(w, "hubble: %d skipped: %s\n", skipped[r], r)
	}
}

// learner learns with res; keepWaiting puts the waiting records in its
// deltas.
func (o *learnOptions) learner(res resolve.Resolver, bucket time.Duration, keepWaiting bool) (*learn.Learner, error) {
	source := o.from
	if source == "" {
		source = "live capture"
	}
	return learn.New(res, learn.Options{Bucket: bucket, Source: source, MaxWait: o.maxWait, KeepWaiting: keepWaiting, DNSGrace: o.dnsGrace})
}

// finishLearn records the run and prints its summary, or its error with
// what the file keeps. source is the summary's line on the cluster state:
// the inventory, once learning starts, is no longer held.
func finishLearn(ctx context.Context, o *learnOptions, s Streams, store baseline.Store, source string, run baseline.Run, learnErr error, took time.Duration) error {
	if learnErr != nil {
		run.Error = learnErr.Error()
	}
	if err := store.RecordRun(context.WithoutCancel(ctx), run); err != nil && learnErr == nil {
		learnErr = err
	}
	if learnErr != nil {
		return fmt.Errorf("%w\n%s", learnErr, storedNote(run, storeName(store)))
	}
	st, err := store.Status(context.WithoutCancel(ctx))
	if err != nil {
		return err
	}
	printLearnSummary(s.Out, run, source, storeName(store), st.Edges, took)
	return nil
}

func openInput(path string, stdin io.Reader) (io.ReadCloser, string, error) {
	if path == "-" {
		return io.NopCloser(stdin), "-", nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	return f, path, nil
}

func storedNote(sum baseline.Run, db string) string {
	if sum.Batches == 0 {
		return fmt.Sprintf("nothing from this run was stored in %s", db)
	}
	return fmt.Sprintf("%s keeps the %d records through line %d (%d whole batches); nothing after line %d was stored",
		db, sum.Stored, sum.StoredLines, sum.Batches, sum.StoredLines)
}

func printLearnSummary(w io.Writer, sum baseline.Run, source, db string, total int, took time.Duration) {
	fmt.Fprintf(w, "learned %d records (%d connections) from %s in %d batches, %.1fs\n",
		sum.Records, sum.Connections, sum.Source, sum.Batches, took.Seconds())
	fmt.Fprintf(w, "edges: %d seen, %d new; %s holds %d\n", sum.Edges, sum.NewEdges, db, total)
	fmt.Fprintln(w, source)
	fmt.Fprintf(w, "unresolved ends: %s\n", orNone(countsLine("", sum.Unresolved)))
	if sum.Waited > 0 || sum.WaitFull > 0 {
		fmt.Fprintf(w, "waited for the cluster state: %d records, %d still unknown after --max-wait, %d could not wait (too many waiting)\n",
			sum.Waited, sum.WaitedOut, sum.WaitFull)
	}
	if len(sum.Ignored) > 0 {
		fmt.Fprintf(w, "ignored records: %s\n", countsLine("", sum.Ignored))
	}
	if sum.Split > 0 {
		fmt.Fprintf(w, "through Services with several backend workloads: %d client-side records counted per backend as the servers reported; in %d buckets no server did, and the count was split as the servers reported at other times, or evenly (estimated)\n",
			sum.Split, sum.SplitEstimated)
	}
}

func toUint64(m map[string]int) map[string]uint64 {
	out := make(map[string]uint64, len(m))
	for k, v := range m {
		out[k] = uint64(v)
	}
	return out
}

// countsLine lists "N reason" pairs, largest first, after a prefix; empty
// when there are none.
func countsLine(prefix string, m map[string]uint64) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", m[k], k)
	}
	return prefix + strings.Join(parts, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
