package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"
)

// Streams are where a command reads and writes.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
	// Now, when set, is the clock of the commands that keep time (the
	// aggregator's staged record, recommend's promotion); nil means
	// time.Now. Tests set it.
	Now func() time.Time
}

func (s Streams) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// ExitError ends a command with a given exit code; Err, when set, is
// printed first.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// NewRootCommand builds the flowpol command tree.
func NewRootCommand(s Streams) *cobra.Command {
	return newRootCommand(s, "flowpol")
}

// newRootCommand builds the command tree for the program name it was run
// as: as the kubectl plugin (PluginName), commands that read a cluster
// default to the kubeconfig's current context.
func newRootCommand(s Streams, program string) *cobra.Command {
	root := &cobra.Command{
		Use:   "flowpol",
		Short: "Learn a cluster's traffic and recommend the NetworkPolicies that allow exactly it",
		Long: `flowpol learns which workloads talk to which, on which ports, from observed
flows, keeps that baseline in a file, and generates networking.k8s.io/v1
NetworkPolicies that allow exactly what was seen.

  flowpol learn --from flows.jsonl --inventory cluster.yaml --db flowpol.db
  flowpol generate --db flowpol.db --window 3h -o policies/`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	if program == PluginName {
		root.Annotations = map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl flowpol"}
		root.PersistentPreRunE = defaultToKubeconfig
	}
	root.AddCommand(newLearnCommand(s), newGenerateCommand(s), newCaptureCommand(s), newCheckCommand(s), newDiffCommand(s), newTopologyCommand(s), newCompileCommand(s), newEnforceCommand(s), newVersionCommand(s), newAgentCommand(s), newAggregatorCommand(s), newRecommendCommand(s), newStatusCommand(s), newCompactCommand(s), newStagedCommand(s), newUICommand(s))
	return root
}

// Run runs the command line args and returns the process's exit code: 0 on
// success, the code of an ExitError, else 1.
func Run(ctx context.Context, args []string, s Streams) int {
	return RunAs(ctx, "flowpol", args, s)
}

// RunAs is Run for the program name the binary was run as (the base name
// of argv[0]): "kubectl-flowpol" runs as the kubectl plugin.
func RunAs(ctx context.Context, program string, args []string, s Streams) int {
	root := newRootCommand(s, program)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintf(s.Err, "flowpol: %v\n", ee.Err)
		}
		return ee.Code
	}
	fmt.Fprintf(s.Err, "flowpol: %v\n", err)
	if code, err := strconv.Atoi(cmd.Annotations[annotationErrorExit]); err == nil {
		return code // a command whose success and failure codes say something else
	}
	return 1
}

// annotationErrorExit, on a command, is the exit code of its errors when it
// is not 1.
const annotationErrorExit = "flowpol.io/error-exit"
