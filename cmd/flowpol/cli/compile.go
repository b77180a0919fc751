package cli

import (
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"slices"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/flowpol/flowpol/generator"
	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/policyfile"
	"github.com/flowpol/flowpol/rules"
)

type compileOptions struct {
	policies string
	out      string
}

func newCompileCommand(s Streams) *cobra.Command {
	o := &compileOptions{}
	cmd := &cobra.Command{
		Use:   "compile --policies DIR|- [-o FILE|-]",
		Short: "Compile NetworkPolicies into the enforcer's native rules",
		Long: `Compile turns NetworkPolicies into the rule set flowpol enforce applies:
identities (a namespace or namespace selector with a pod selector), which
identities each policy isolates for ingress and egress, and one rule per
policy rule and peer (identity, CIDR less its exceptions, or every peer) with
its ports and protocols, each naming the policy and rule it came from. The
rules know no pods: enforce binds them to the pods of the cluster.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			set, err := policiesFromFiles(o.policies, s, policyfile.Options{})
			if err != nil {
				return err
			}
			return writeRules(s.Out, o.out, set.NetworkPolicies())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.policies, "policies", "", `policy files: a directory, or "-" for standard input`)
	f.StringVarP(&o.out, "output", "o", "-", `file to write the rules to, or "-" for standard output`)
	cmd.MarkFlagRequired("policies")
	return cmd
}

// writeRules compiles policies and writes the rules to path (atomically),
// or to stdout for "-".
func writeRules(stdout io.Writer, path string, policies []networkingv1.NetworkPolicy) error {
	set, err := rules.Compile(policies)
	if err != nil {
		return err
	}
	b, err := rules.Marshal(set)
	if err != nil {
		return err
	}
	if path == "-" {
		_, err := stdout.Write(b)
		return err
	}
	return generator.WriteAtomic(path, b)
}

// rulePods are the inventory's running pods, as rules binds them. Pods
// being deleted come first, so that a new pod on the same address wins it.
func rulePods(inv *inventory.Inventory) ([]rules.Pod, map[string]map[string]string, error) {
	var pods []rules.Pod
	ordered := slices.Clone(inv.Pods)
	slices.SortStableFunc(ordered, func(a, b corev1.Pod) int {
		return cmp.Compare(boolInt(a.DeletionTimestamp == nil), boolInt(b.DeletionTimestamp == nil))
	})
	for i := range ordered {
		p := &ordered[i]
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		rp := rules.Pod{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels, HostNetwork: p.Spec.HostNetwork, Node: p.Spec.NodeName}
		for _, c := range p.Spec.Containers {
			rp.Ports = append(rp.Ports, c.Ports...)
		}
		for _, ip := range podIPs(p) {
			a, err := netip.ParseAddr(ip)
			if err != nil {
				return nil, nil, fmt.Errorf("pod %s/%s: address %q: %w", p.Namespace, p.Name, ip, err)
			}
			rp.IPs = append(rp.IPs, a)
		}
		pods = append(pods, rp)
	}
	ns := map[string]map[string]string{}
	for _, n := range inv.Namespaces {
		ns[n.Name] = n.Labels
	}
	return pods, ns, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func podIPs(p *corev1.Pod) []string {
	var out []string
	for _, ip := range p.Status.PodIPs {
		out = append(out, ip.IP)
	}
	if len(out) == 0 && p.Status.PodIP != "" {
		out = append(out, p.Status.PodIP)
	}
	return out
}
