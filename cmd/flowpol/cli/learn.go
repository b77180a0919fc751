package cli

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowpol/flowpol/aggregator"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/inventory"
)

type learnOptions struct {
	capture      captureOptions
	cluster      clusterOptions
	window       time.Duration
	from         string
	db           string
	batchRecords int
	bucket       time.Duration
	clusterCIDRs []string
	lockTimeout  time.Duration
	maxWait      time.Duration
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
			return runLearn(cmd.Context(), o, s)
		},
	}
	o.addFlags(cmd)
	return cmd
}

func (o *learnOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.from, "from", "", `flow records to read, JSON Lines; "-" for standard input`)
	f.Var(positiveDuration(&o.window, 0), "window", "capture live for this long (without --from)")
	f.StringVar(&o.db, "db", "flowpol.db", "baseline file")
	f.Var(positiveInt(&o.batchRecords, 500_000), "batch-records", "records per committed batch")
	f.Var(positiveDuration(&o.bucket, time.Minute), "bucket", "time bucket width of a new baseline file")
	f.StringSliceVar(&o.clusterCIDRs, "cluster-cidr", nil, "pod and service ranges: an unknown address in them is unresolved, not external (nodes' podCIDRs are always included)")
	f.Var(positiveDuration(&o.lockTimeout, time.Second), "lock-timeout", "how long to wait for another process to release the baseline file")
	f.Var(nonNegativeDuration(&o.maxWait, 30*time.Second), "max-wait", "with --kubeconfig, how long a flow whose pod the cluster state does not show yet waits for it")
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

func runLearn(ctx context.Context, o *learnOptions, s Streams) error {
	cidrs, err := o.cidrs()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the informers
	inv, refresh, err := o.cluster.load(ctx)
	if err != nil {
		return err
	}
	for _, w := range inv.Warnings() {
		fmt.Fprintf(s.Err, "warning: %s\n", w)
	}
	var rd *flow.Reader // nil: live
	if o.from != "" {
		in, name, err := openInput(o.from, s.In)
		if err != nil {
			return err
		}
		defer in.Close()
		rd = flow.NewReader(in, name)
	}
	store, err := aggregator.Open(o.db, aggregator.StoreOptions{Timeout: o.lockTimeout, Bucket: o.bucket})
	if err != nil {
		return err
	}
	defer store.Close()
	res := aggregator.NewResolver(inv, aggregator.ResolverOptions{ClusterCIDRs: cidrs})
	source := o.from
	if source == "" {
		source = "live capture"
	}
	l := aggregator.NewLearner(store, res, aggregator.LearnOptions{BatchRecords: o.batchRecords, Source: source, Refresh: refresh, MaxWait: o.maxWait})
	start := time.Now()
	var learnErr error
	if rd != nil {
		learnErr = aggregator.Learn(ctx, rd, l)
	} else {
		learnErr = learnLive(ctx, o, s, l)
	}
	if err := l.Finish(learnErr); err != nil && learnErr == nil {
		learnErr = err
	}
	sum := l.Summary()
	if learnErr != nil {
		return fmt.Errorf("%w\n%s", learnErr, storedNote(sum, o.db))
	}
	total, err := store.EdgeCount()
	if err != nil {
		return err
	}
	printLearnSummary(s.Out, sum, inv, store.Path(), total, time.Since(start))
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

func storedNote(sum aggregator.Summary, db string) string {
	if sum.Batches == 0 {
		return fmt.Sprintf("nothing from this run was stored in %s", db)
	}
	return fmt.Sprintf("%s keeps the %d records through line %d (%d whole batches); nothing after line %d was stored",
		db, sum.Stored, sum.StoredLines, sum.Batches, sum.StoredLines)
}

func printLearnSummary(w io.Writer, sum aggregator.Summary, inv *inventory.Inventory, db string, total int, took time.Duration) {
	fmt.Fprintf(w, "learned %d records (%d connections) from %s in %d batches, %.1fs\n",
		sum.Records, sum.Connections, sum.Source, sum.Batches, took.Seconds())
	fmt.Fprintf(w, "edges: %d seen, %d new; %s holds %d\n", sum.Edges, sum.NewEdges, db, total)
	fmt.Fprintf(w, "inventory: %d objects%s\n", inv.Objects(), countsLine(", skipped ", toUint64(inv.Skipped)))
	fmt.Fprintf(w, "unresolved ends: %s\n", orNone(countsLine("", sum.Unresolved)))
	if sum.Waited > 0 || sum.WaitFull > 0 {
		fmt.Fprintf(w, "waited for the cluster state: %d records, %d still unknown after --max-wait, %d could not wait (too many waiting)\n",
			sum.Waited, sum.WaitedOut, sum.WaitFull)
	}
	if len(sum.Ignored) > 0 {
		fmt.Fprintf(w, "ignored records: %s\n", countsLine("", sum.Ignored))
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
