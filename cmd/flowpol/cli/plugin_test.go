package cli_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowpol/flowpol/cmd/flowpol/cli"
)

// Run as kubectl-flowpol, a command that reads a cluster reads the one
// $KUBECONFIG names when given no --kubeconfig; run as flowpol it must be
// told; given the flag that replaces the cluster, neither looks.
func TestPluginDefaultsToKubeconfig(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-kubeconfig")
	t.Setenv("KUBECONFIG", missing)
	db := filepath.Join(t.TempDir(), "f.db")
	policies := t.TempDir()
	for _, tc := range []struct {
		name, program string
		args          []string
		code          int
		want          string
	}{
		{"plugin reads the kubeconfig", cli.PluginName, []string{"diff", "--db", db}, 2, "kubeconfig " + missing},
		{"flowpol must be told", "flowpol", []string{"diff", "--db", db}, 2, "[against kubeconfig] is required"},
		{"plugin with the alternative", cli.PluginName, []string{"check", "--db", db, "--policies", policies}, 2, "open " + db},
		{"plugin help", cli.PluginName, []string{"--help"}, 0, "kubectl flowpol [command]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := cli.RunAs(context.Background(), tc.program, tc.args, cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
			got := out.String() + errb.String()
			if code != tc.code || !strings.Contains(got, tc.want) {
				t.Errorf("%s %v: exit %d, want %d with %q:\n%s", tc.program, tc.args, code, tc.code, tc.want, got)
			}
			if tc.name == "plugin with the alternative" && strings.Contains(got, missing) {
				t.Errorf("given --policies, the plugin still read the kubeconfig:\n%s", got)
			}
		})
	}
}
