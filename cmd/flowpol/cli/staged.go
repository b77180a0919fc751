package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowpol/flowpol/ingest/wire"
)

type stagedCmdOptions struct {
	server serverOptions
	format string
}

func newStagedCommand(s Streams) *cobra.Command {
	o := &stagedCmdOptions{}
	cmd := &cobra.Command{
		Use:   "staged --server URL [--format text|json]",
		Short: "Show the aggregator's staged policies: what they would deny, and how long each has been clean",
		Long: `Staged reads the aggregator's record of its staged policies (aggregator
--staged or --staged-configmap): each policy with when it was staged, the
connections it would have denied and since when it has been clean, then
every flow committed since the set was staged that it would deny, grouped
as check groups them. --format json prints the record as GET /api/v1/staged
serves it. Exit status: 0 when the staged policies would deny nothing, 1
when they would, 2 on error.`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{annotationErrorExit: "2"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStaged(cmd.Context(), o, s)
		},
	}
	o.server.addFlags(cmd, "the aggregator's URL")
	cmd.Flags().StringVar(&o.format, "format", "text", "output: text or json")
	cmd.MarkFlagRequired("server")
	return cmd
}

func runStaged(ctx context.Context, o *stagedCmdOptions, s Streams) error {
	if o.format != "text" && o.format != "json" {
		return fmt.Errorf("--format %q: want text or json", o.format)
	}
	c, err := o.server.client()
	if err != nil {
		return err
	}
	st, err := c.Staged(ctx)
	if err != nil {
		return err
	}
	if o.format == "json" {
		enc := json.NewEncoder(s.Out)
		enc.SetIndent("", "  ")
		err = enc.Encode(st)
	} else {
		err = writeStagedText(s.Out, st)
	}
	if err != nil {
		return err
	}
	if len(st.Flows) > 0 {
		return &ExitError{Code: 1}
	}
	return nil
}

func writeStagedText(w io.Writer, st *wire.Staged) error {
	for _, p := range st.Policies {
		fmt.Fprintf(w, "%s: staged %s, %s\n", p.Policy, p.StagedSince.UTC().Format(time.RFC3339), cleanText(p))
	}
	if len(st.Policies) > 0 {
		fmt.Fprintln(w)
	}
	var last string
	for _, f := range st.Flows {
		group := fmt.Sprintf("%s %s (isolated by %s):", f.Target, f.Direction, strings.Join(f.Policies, ", "))
		if group != last {
			fmt.Fprintln(w, group)
			last = group
		}
		fmt.Fprintf(w, "  %s -> %s %d/%s: %s, first seen %s, last seen %s\n", f.Src, f.Dst, f.Port, f.Proto, connectionsText(f.Count),
			f.FirstSeen.UTC().Format(time.RFC3339), f.LastSeen.UTC().Format(time.RFC3339))
	}
	_, err := fmt.Fprintf(w, "%d flows would be denied by %d staged policies, staged since %s\n", len(st.Flows), len(st.Policies), st.Since.UTC().Format(time.RFC3339))
	return err
}

// cleanText says how a staged policy has done.
func cleanText(p wire.StagedPolicy) string {
	clean := fmt.Sprintf("clean for %s (since %s)", roundDuration(p.CleanSeconds), p.CleanSince.UTC().Format(time.RFC3339))
	if p.WouldDeny == 0 {
		return "would deny nothing; " + clean
	}
	return fmt.Sprintf("would deny %s in %d flows, last seen %s; %s", connectionsText(p.WouldDeny), p.Flows,
		p.LastWouldDeny.UTC().Format(time.RFC3339), clean)
}

// roundDuration is a duration of seconds for people: days and hours, or
// hours and minutes, or seconds.
func roundDuration(secs float64) string {
	d := time.Duration(secs) * time.Second
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd%dh", d/(24*time.Hour), (d%(24*time.Hour))/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%dm", d/time.Hour, (d%time.Hour)/time.Minute)
	}
	return d.Truncate(time.Second).String()
}
