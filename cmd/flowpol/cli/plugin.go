package cli

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"
)

// PluginName is the name kubectl finds flowpol by on the PATH: installed
// (or linked) as kubectl-flowpol, `kubectl flowpol ...` runs it.
const PluginName = "kubectl-flowpol"

// defaultToKubeconfig, for the plugin, points --kubeconfig of a command
// that reads a cluster at the kubeconfig kubectl uses ($KUBECONFIG, else
// ~/.kube/config; its current context) when the command was given neither
// --kubeconfig nor the flag that replaces the cluster (an inventory, a
// policy directory).
func defaultToKubeconfig(cmd *cobra.Command, _ []string) error {
	kc := cmd.Flags().Lookup("kubeconfig")
	if kc == nil || kc.Changed {
		return nil
	}
	if alt := clusterAlternative(cmd.Name()); alt != "" && cmd.Flags().Changed(alt) {
		return nil
	}
	path := strings.Join(clientcmd.NewDefaultClientConfigLoadingRules().GetLoadingPrecedence(), string(filepath.ListSeparator))
	if err := cmd.Flags().Set("kubeconfig", path); err != nil {
		return fmt.Errorf("--kubeconfig %s: %w", path, err)
	}
	return nil
}

// clusterAlternative is the flag that, given to the command, means it does
// not read the cluster ("" when there is none).
func clusterAlternative(command string) string {
	switch command {
	case "check":
		return "policies"
	case "diff":
		return "against"
	case "learn", "enforce", "aggregator":
		return "inventory"
	}
	return ""
}
