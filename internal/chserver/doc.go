// Package chserver starts real ClickHouse servers for tests: Debian's
// clickhouse-server (18.16 on this distribution; any later release takes
// the same configuration), on loopback ports of their own, with their data
// in a directory the caller gives (a test's t.TempDir()). Start runs one
// server, or several that know each other as the shards of one cluster,
// so that a Distributed table over them can be tried. Servers are stopped
// by Stop, which a test registers with t.Cleanup; Kill ends one abruptly
// and Restart brings it back on the same port and data. Nothing here
// needs privileges.
package chserver
