package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	networkingv1 "k8s.io/api/networking/v1"
	cnp "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/flowpol/flowpol/check"
	"github.com/flowpol/flowpol/ingest/wire"
	"github.com/flowpol/flowpol/policyfile"
)

type checkOptions struct {
	windowOptions
	overrides  overridesOption
	policies   string
	kubeconfig string
	format     string
}

func newCheckCommand(s Streams) *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check --db FILE (--policies DIR|- | --kubeconfig FILE) [--format text|json|github]",
		Short: "Replay observed flows against a policy set; fail if it would deny any",
		Long: `Check decides every flow observed in the window under a set of
NetworkPolicies, read from YAML files (a directory, searched recursively, or
"-" for standard input) or from the cluster, and prints every observed flow
the set would deny, grouped by the workload whose policies deny it, with its
evidence. Exit status: 0 when nothing observed would be denied, 1 when
something would, 2 on error.`,
		Args:        cobra.NoArgs,
		Annotations: map[string]string{annotationErrorExit: "2"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCheck(cmd.Context(), o, s)
		},
	}
	o.windowOptions.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.policies, "policies", "", `policy files: a directory, or "-" for standard input`)
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "read the policies from the cluster through this kubeconfig")
	f.StringVar(&o.format, "format", "text", "output: text, json (one object per denied flow) or github (Actions annotations)")
	o.overrides.addFlag(cmd)
	cmd.MarkFlagsMutuallyExclusive("policies", "kubeconfig")
	cmd.MarkFlagsOneRequired("policies", "kubeconfig")
	return cmd
}

func runCheck(ctx context.Context, o *checkOptions, s Streams) error {
	if o.format != "text" && o.format != "json" && o.format != "github" {
		return fmt.Errorf("--format %q: want text, json or github", o.format)
	}
	policies, cluster, files, err := o.loadPolicies(ctx, s)
	if err != nil {
		return err
	}
	w, err := o.read(s.Err)
	if err != nil {
		return err
	}
	ov, err := o.overrides.load()
	if err != nil {
		return err
	}
	res, err := check.RunTiered(w, policies, cluster, ov)
	if err != nil {
		return err
	}
	if err := writeCheck(s.Out, o.format, res, files); err != nil {
		return err
	}
	for _, sk := range res.Skipped {
		fmt.Fprintf(s.Err, "not checked: %s\n", sk)
	}
	for _, msg := range res.Unmatched {
		fmt.Fprintf(s.Err, "warning: override %s\n", msg)
	}
	if len(res.Denials) > 0 {
		return &ExitError{Code: 1}
	}
	return nil
}

// loadPolicies reads the policy set, NetworkPolicies and
// ClusterNetworkPolicies, and the file each policy came from.
func (o *checkOptions) loadPolicies(ctx context.Context, s Streams) ([]networkingv1.NetworkPolicy, []cnp.ClusterNetworkPolicy, map[string]string, error) {
	if o.kubeconfig != "" {
		ps, err := policiesFromCluster(ctx, o.kubeconfig)
		if err != nil {
			return nil, nil, nil, err
		}
		cluster, err := clusterPoliciesFromCluster(ctx, o.kubeconfig)
		return ps, cluster, map[string]string{}, err
	}
	set, err := policiesFromFiles(o.policies, s, policyfile.Options{Cluster: true})
	if err != nil {
		return nil, nil, nil, err
	}
	files := set.Files()
	for _, p := range set.Cluster {
		files["ClusterNetworkPolicy "+p.Name] = p.File
	}
	return set.NetworkPolicies(), set.ClusterNetworkPolicies(), files, nil
}

func writeCheck(w io.Writer, format string, res *check.Result, files map[string]string) error {
	switch format {
	case "json":
		return writeCheckJSON(w, res)
	case "github":
		return writeCheckGitHub(w, res, files)
	}
	return writeCheckText(w, res)
}

func direction(d check.Denial) string { return wire.Direction(d.Ingress) }

func evidence(d check.Denial) string {
	return fmt.Sprintf("%s, last seen %s", connectionsText(d.Count), d.Last.UTC().Format(time.RFC3339))
}

func connectionsText(n uint64) string {
	if n == 1 {
		return "1 connection"
	}
	return fmt.Sprintf("%d connections", n)
}

func writeCheckText(w io.Writer, res *check.Result) error {
	var last string
	for _, d := range res.Denials {
		group := fmt.Sprintf("%s %s (%s %s):", d.Target, direction(d), deniedBy(d.Policies), strings.Join(d.Policies, ", "))
		if group != last {
			fmt.Fprintln(w, group)
			last = group
		}
		fmt.Fprintf(w, "  %s -> %s %d/%s: %s\n", d.Src, d.Dst, d.Port, d.Proto, evidence(d))
	}
	_, err := fmt.Fprintf(w, "%d of %d observed flows would be denied\n", len(res.Denials), res.Checked)
	return err
}

func writeCheckJSON(w io.Writer, res *check.Result) error {
	enc := json.NewEncoder(w)
	for _, d := range res.Denials {
		if err := enc.Encode(wire.FromDenial(d)); err != nil {
			return err
		}
	}
	return nil
}

// writeCheckGitHub writes GitHub Actions error annotations, on the file of
// the first policy that isolates the denying end.
func writeCheckGitHub(w io.Writer, res *check.Result, files map[string]string) error {
	for _, d := range res.Denials {
		file := ""
		if len(d.Policies) > 0 {
			if f := files[d.Policies[0]]; f != "" && f != "-" {
				file = "file=" + ghEscape(f, true) + ","
			}
		}
		msg := fmt.Sprintf("observed flow %s -> %s %d/%s (%s) would be denied: %s", d.Src, d.Dst, d.Port, d.Proto, evidence(d), d.Reason)
		if _, err := fmt.Fprintf(w, "::error %stitle=flowpol check::%s\n", file, ghEscape(msg, false)); err != nil {
			return err
		}
	}
	return nil
}

// ghEscape escapes a workflow command's data or property value.
func ghEscape(s string, property bool) string {
	r := strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	s = r.Replace(s)
	if property {
		s = strings.NewReplacer(":", "%3A", ",", "%2C").Replace(s)
	}
	return s
}

// deniedBy says how the policies of a denial deny: NetworkPolicies isolate
// and allow too little; a ClusterNetworkPolicy's rule denies.
func deniedBy(policies []string) string {
	if len(policies) == 1 && strings.HasPrefix(policies[0], "ClusterNetworkPolicy ") {
		return "denied by"
	}
	return "isolated by"
}
