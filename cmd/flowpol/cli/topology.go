package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowpol/flowpol/topology"
)

type topologyOptions struct {
	windowOptions
	format string
}

func newTopologyCommand(s Streams) *cobra.Command {
	o := &topologyOptions{}
	cmd := &cobra.Command{
		Use:   "topology --db FILE [--window 3h]",
		Short: "Show what was seen: each workload's peers, ports and evidence",
		Long: `Topology lists, per workload, its ingress and egress peers in the window with
port and protocol, connections, first and last seen, how many pods (source →
destination) and which nodes showed them, and the process names the
collector recorded. Edges with an external or unresolved end are listed
apart, after the workloads.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if o.format != "table" {
				return fmt.Errorf("--format %q: want table", o.format)
			}
			w, err := o.read()
			if err != nil {
				return err
			}
			return writeTopology(s.Out, w)
		},
	}
	o.windowOptions.addFlags(cmd)
	cmd.Flags().StringVar(&o.format, "format", "table", "output: table")
	return cmd
}

// topologyRow is one peer of one workload.
type topologyRow struct {
	workload topology.WorkloadRef
	ingress  bool
	peer     topology.End
	e        topology.EdgeStats
}

func writeTopology(out io.Writer, w *topology.Window) error {
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
	fmt.Fprintln(tw, "WORKLOAD\tDIRECTION\tPEER\tPORT\tCONNECTIONS\tFIRST SEEN\tLAST SEEN\tPODS\tNODES\tPROCESSES")
	for _, r := range rows {
		dir := "egress"
		if r.ingress {
			dir = "ingress"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%s\t%d\t%s\t%s\t%d→%d\t%s\t%s\n", r.workload, dir, r.peer, r.e.Port, r.e.Proto, r.e.Count,
			r.e.First.Format(time.RFC3339), r.e.Last.Format(time.RFC3339), r.e.SrcPods, r.e.DstPods,
			orDash(strings.Join(r.e.Nodes, ",")), processes(r.e))
	}
	if err := tw.Flush(); err != nil || len(apart) == 0 {
		return err
	}
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nexternal and unresolved peers:")
	fmt.Fprintln(tw, "SOURCE\tDESTINATION\tPORT\tCONNECTIONS\tLAST SEEN")
	for _, e := range apart {
		fmt.Fprintf(tw, "%s\t%s\t%d/%s\t%d\t%s\n", e.Src, e.Dst, e.Port, e.Proto, e.Count, e.Last.Format(time.RFC3339))
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
