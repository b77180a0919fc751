package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/flowpol/flowpol/ingest/client"
)

// serverOptions say how to reach an aggregator: the agent ships to it,
// and the commands that read a baseline can read it there.
type serverOptions struct {
	url       string
	tokenFile string
	caFile    string
	certFile  string
	keyFile   string
}

func (o *serverOptions) addFlags(cmd *cobra.Command, use string) {
	f := cmd.Flags()
	f.StringVar(&o.url, "server", "", use)
	f.StringVar(&o.tokenFile, "token-file", "", "file holding the aggregator's bearer token (read for every request)")
	f.StringVar(&o.caFile, "server-ca", "", "CA certificate that signed an https:// aggregator's certificate (default: the system's)")
	f.StringVar(&o.certFile, "client-cert", "", "client certificate, for an aggregator that takes mTLS")
	f.StringVar(&o.keyFile, "client-key", "", "the client certificate's key")
	cmd.MarkFlagsRequiredTogether("client-cert", "client-key")
}

func (o *serverOptions) client() (*client.Client, error) {
	return client.New(client.Options{Server: o.url, TokenFile: o.tokenFile, CAFile: o.caFile, CertFile: o.certFile, KeyFile: o.keyFile, Timeout: 2 * time.Minute})
}
