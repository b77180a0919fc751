package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowpol/flowpol/check"
	"github.com/flowpol/flowpol/policyfile"
	"github.com/flowpol/flowpol/topology"
	"github.com/flowpol/flowpol/topology/render"
)

type topologyOptions struct {
	windowOptions
	overrides overridesOption
	policies  string
	staged    bool
	format    string
}

func newTopologyCommand(s Streams) *cobra.Command {
	o := &topologyOptions{}
	cmd := &cobra.Command{
		Use:   "topology --db FILE [--window 3h] [--policies DIR|-] [--format table|dot|mermaid|html]",
		Short: "Show what was seen: each workload's peers, ports and evidence",
		Long: `Topology lists, per workload, its ingress and egress peers in the window with
port and protocol, connections, first and last seen, how many pods (source →
destination) and which nodes showed them, and the process names the
collector recorded. Edges with an external or unresolved end are listed
apart, after the workloads.

--format dot, mermaid or html draws it instead: workloads grouped by
namespace, external and unresolved peers marked, each link with its ports
and connection counts. The HTML is one self-contained page that works
offline. With --policies (as check reads them), the observed flows those
policies would deny are marked: drawn red, or a DENIED column in the table.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return runTopology(o, s)
		},
	}
	o.windowOptions.addFlags(cmd)
	cmd.Flags().StringVar(&o.format, "format", "table", "output: table, dot (Graphviz), mermaid or html (one self-contained page)")
	cmd.Flags().StringVar(&o.policies, "policies", "", `mark the observed flows these policies would deny: a directory, or "-" for standard input`)
	cmd.Flags().BoolVar(&o.staged, "staged", false, "mark the observed flows the aggregator's staged policies would deny (needs --server)")
	cmd.MarkFlagsMutuallyExclusive("policies", "staged")
	o.overrides.addFlag(cmd)
	return cmd
}

func runTopology(o *topologyOptions, s Streams) error {
	draw := topologyFormat(o.format)
	if draw == nil {
		return fmt.Errorf("--format %q: want table, dot, mermaid or html", o.format)
	}
	w, err := o.read(s.Err)
	if err != nil {
		return err
	}
	var opts render.Options
	switch {
	case o.policies != "":
		opts.Denied, err = o.denied(w, s)
	case o.staged:
		opts.Denied, err = o.stagedDenied(w)
	}
	if err != nil {
		return err
	}
	return draw(s.Out, w, opts)
}

// topologyFormat is what writes a --format, or nil.
func topologyFormat(name string) func(io.Writer, *topology.Window, render.Options) error {
	switch name {
	case "table":
		return writeTopology
	case "dot":
		return render.DOT
	case "mermaid":
		return render.Mermaid
	case "html":
		return render.HTML
	}
	return nil
}

// denied replays the window against the policies, as check does, and
// returns the edges they would deny with why.
func (o *topologyOptions) denied(w *topology.Window, s Streams) (map[topology.Edge]string, error) {
	set, err := policiesFromFiles(o.policies, s, policyfile.Options{Cluster: true})
	if err != nil {
		return nil, err
	}
	ov, err := o.overrides.load()
	if err != nil {
		return nil, err
	}
	res, err := check.RunTiered(w, set.NetworkPolicies(), set.ClusterNetworkPolicies(), ov)
	if err != nil {
		return nil, err
	}
	out := make(map[topology.Edge]string, len(res.Denials))
	for _, d := range res.Denials {
		out[d.Edge] = fmt.Sprintf("%s denied by %s: %s", direction(d), strings.Join(d.Policies, ", "), d.Reason)
	}
	return out, nil
}

// stagedDenied asks the aggregator which flows its staged policies would
// deny, and returns the window's edges among them with why.
func (o *topologyOptions) stagedDenied(w *topology.Window) (map[topology.Edge]string, error) {
	if len(o.server.urls) == 0 {
		return nil, errors.New("--staged reads the aggregator's staged policies: give --server URL")
	}
	c, err := o.server.client()
	if err != nil {
		return nil, err
	}
	st, err := c.Staged(context.Background())
	if err != nil {
		return nil, err
	}
	why := make(map[string]string, len(st.Flows))
	for _, f := range st.Flows {
		why[flowKey(f.Src, f.Dst, f.Port, f.Proto)] = fmt.Sprintf("%s would be denied by staged %s: %s", f.Direction, strings.Join(f.Policies, ", "), f.Reason)
	}
	out := map[topology.Edge]string{}
	for _, e := range w.Edges {
		if r, ok := why[flowKey(e.Src.String(), e.Dst.String(), e.Port, e.Proto.String())]; ok {
			out[e.Edge] = r
		}
	}
	return out, nil
}

func flowKey(src, dst string, port uint16, proto string) string {
	return fmt.Sprintf("%s\x00%s\x00%d\x00%s", src, dst, port, proto)
}

// topologyRow is one peer of one workload.
type topologyRow struct {
	workload topology.WorkloadRef
	ingress  bool
	peer     topology.End
	e        topology.EdgeStats
}

// writeTopology writes the table; with denials (opts.Denied not nil) a
// last column says which rows' flows the policies would deny.
func writeTopology(out io.Writer, w *topology.Window, opts render.Options) error {
	var rows []topologyRow
	var apart []topology.EdgeStats
	for _, e := range w.Edges {
		if e.Src.Kind == topology.KindWorkload {
			rows = append(rows, topologyRow{workload: e.Src.Workload, peer: e.Dst, e: e})
		}
		if e.Dst.Kind == topology.KindWorkload {
			rows = append(rows, topologyRow{workload: e.Dst.Workload, ingress: true, peer: e.Src, e: e})
		}
		if isApart(e.Src) || isApart(e.Dst) {
			apart = append(apart, e)
		}
	}
	slices.SortFunc(rows, func(a, b topologyRow) int {
		if c := a.workload.Compare(b.workload); c != 0 {
			return c
		}
		if a.ingress != b.ingress {
			if a.ingress {
				return -1
			}
			return 1
		}
		return a.e.Edge.Compare(b.e.Edge)
	})
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "window %s to %s\n\n", w.From.Format(time.RFC3339), w.To.Format(time.RFC3339))
	verdict := func(topology.Edge) string { return "" }
	header := "WORKLOAD\tDIRECTION\tPEER\tPORT\tCONNECTIONS\tFIRST SEEN\tLAST SEEN\tPODS\tNODES\tPROCESSES"
	if opts.Denied != nil {
		header += "\tDENIED"
		verdict = func(e topology.Edge) string {
			if _, ok := opts.Denied[e]; ok {
				return "\tdenied"
			}
			return "\t-"
		}
	}
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		dir := "egress"
		if r.ingress {
			dir = "ingress"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%s\t%s\t%s\t%s\t%d→%d\t%s\t%s%s\n", r.workload, dir, r.peer, r.e.Port, r.e.Proto, countText(r.e),
			r.e.First.Format(time.RFC3339), r.e.Last.Format(time.RFC3339), r.e.SrcPods, r.e.DstPods,
			orDash(strings.Join(r.e.Nodes, ",")), processes(r.e), verdict(r.e.Edge))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := writeCoverage(out, w); err != nil || len(apart) == 0 {
		return err
	}
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nexternal and unresolved peers:")
	fmt.Fprintln(tw, "SOURCE\tDESTINATION\tPORT\tCONNECTIONS\tLAST SEEN")
	for _, e := range apart {
		fmt.Fprintf(tw, "%s\t%s\t%d/%s\t%s\t%s\n", e.Src, e.Dst, e.Port, e.Proto, countText(e), e.Last.Format(time.RFC3339))
	}
	return tw.Flush()
}

// countText is an edge's connections, with how many are estimated (split
// among a Service's workloads where no server reported) when any are.
func countText(e topology.EdgeStats) string {
	if e.Estimated == 0 {
		return strconv.FormatUint(e.Count, 10)
	}
	return fmt.Sprintf("%d (%d estimated)", e.Count, e.Estimated)
}

// writeCoverage writes each workload's coverage in the window, and the
// CronJobs and Jobs that had no run inside it.
func writeCoverage(out io.Writer, w *topology.Window) error {
	cov := w.Coverage()
	refs := slices.SortedFunc(maps.Keys(cov), topology.WorkloadRef.Compare)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\ncoverage:")
	fmt.Fprintln(tw, "WORKLOAD\tFIRST SEEN\tLAST SEEN\tSPAN\tDAYS WITH TRAFFIC")
	for _, ref := range refs {
		c := cov[ref]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", ref, c.First.Format(time.RFC3339), c.Last.Format(time.RFC3339), c.Span().Round(time.Second), c.Days)
	}
	for _, b := range w.NotRun() {
		last := "never"
		if !b.Last.IsZero() {
			last = b.Last.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t-\t-\t-\t0 (no run inside the window; last run %s)\n", b.Ref, last)
	}
	return tw.Flush()
}

func isApart(e topology.End) bool {
	return e.Kind == topology.KindExternal || e.Kind == topology.KindUnresolved
}

func processes(e topology.EdgeStats) string {
	if len(e.SrcComms) == 0 && len(e.DstComms) == 0 {
		return "-"
	}
	return orDash(strings.Join(e.SrcComms, ",")) + " → " + orDash(strings.Join(e.DstComms, ","))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
