package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// linkedVersion is the release version, set at link time
// (-ldflags "-X github.com/flowpol/flowpol/cmd/flowpol/cli.linkedVersion=v0.1.0",
// as make image and make build do); never written at run time.
var linkedVersion string

func newVersionCommand(s Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print flowpol's version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			version := linkedVersion
			if bi, ok := debug.ReadBuildInfo(); ok && version == "" && bi.Main.Version != "" {
				version = bi.Main.Version
			}
			if version == "" {
				version = "(devel)"
			}
			_, err := fmt.Fprintf(s.Out, "flowpol %s %s/%s\n", version, runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}
