package cli

import (
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowpol/flowpol/ingest/client"
)

// serverOptions say how to reach an aggregator: the agent ships to it,
// and the commands that read a baseline can read it there.
type serverOptions struct {
	urls      []string // --server, comma-separated or repeated
	tokenFile string
	caFile    string
	certFile  string
	keyFile   string
}

func (o *serverOptions) addFlags(cmd *cobra.Command, use string) {
	f := cmd.Flags()
	f.StringSliceVar(&o.urls, "server", nil, use)
	f.StringVar(&o.tokenFile, "token-file", "", "file holding the aggregator's bearer token (read for every request)")
	f.StringVar(&o.caFile, "server-ca", "", "CA certificate that signed an https:// aggregator's certificate (default: the system's)")
	f.StringVar(&o.certFile, "client-cert", "", "client certificate, for an aggregator that takes mTLS")
	f.StringVar(&o.keyFile, "client-key", "", "the client certificate's key")
	cmd.MarkFlagsRequiredTogether("client-cert", "client-key")
}

// given says whether any aggregator URL was given.
func (o *serverOptions) given() bool { return len(o.urls) > 0 }

// String is the URLs given, comma-separated, for messages.
func (o *serverOptions) String() string { return strings.Join(o.urls, ",") }

func (o *serverOptions) client() (*client.Client, error) {
	return client.New(client.Options{Servers: o.urls, TokenFile: o.tokenFile, CAFile: o.caFile, CertFile: o.certFile, KeyFile: o.keyFile, Timeout: 2 * time.Minute})
}
