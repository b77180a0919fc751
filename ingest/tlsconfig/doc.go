// Package tlsconfig builds the TLS configurations of the aggregator and of
// its clients from certificate, key and CA files: TLS 1.2 at least, and
// client certificates asked for, verified, but not required, so that
// health probes and scrapes need none. It reads the files once, when
// called; a rotated certificate needs a restart.
package tlsconfig
