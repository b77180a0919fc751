package cli_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/flowpol/flowpol/internal/chserver"
)

// startClickHouse starts n ClickHouse servers of the test's own, as the
// shards of one cluster.
func startClickHouse(t testing.TB, n int) []*chserver.Server {
	t.Helper()
	srv, err := chserver.Start(chserver.Options{Dir: t.TempDir(), Shards: n})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chserver.Stop(srv) })
	return srv
}

// For the same flows, generate, check and topology read from ClickHouse
// write byte for byte what they write from a baseline file, for every
// golden scenario and one with DNS answers before its external
// connections (Cilium's toFQDNs rules and the warnings about rotating
// addresses come from the names), on one server and behind a Distributed
// table on two shards.
func TestClickHouseParity(t *testing.T) {
	srv := startClickHouse(t, 2)
	parity := append(slices.Clone(scenarios), scenarios[0])
	parity[len(parity)-1].name, parity[len(parity)-1].dir = "DNS names behind external peers", "scenarios/dns"
	for i, sc := range parity {
		for _, sharded := range []bool{false, true} {
			name := fmt.Sprintf("%s/sharded=%v", sc.name, sharded)
			t.Run(name, func(t *testing.T) {
				store := fmt.Sprintf("clickhouse://%s/parity%d?cluster=%s", srv[0].Addr(), i, strings.ReplaceAll(sc.dir, "/", "-"))
				if sharded {
					store = fmt.Sprintf("clickhouse://%s/parity_sharded%d?cluster=c%d&shards=%s", srv[1].Addr(), i, i, chserver.ClusterName)
				}
				db := learnScenario(t, sc.dir)
				mustRun(t, "learn", "--from", repoFile("testdata", sc.dir, "flows.jsonl"),
					"--inventory", repoFile("testdata", sc.dir, "cluster.yaml"), "--store", store, "--batch-records", "7")
				for _, args := range [][]string{
					{"generate", "--until", sc.until},
					{"generate", "--until", sc.until, "--window", "20m"},
					{"generate", "--until", sc.until, "--format", "cilium"},
					{"topology", "--until", sc.until},
					{"topology", "--until", sc.until, "--format", "html", "--policies", repoFile("testdata", "check", "policies")},
					{"topology", "--until", sc.until, "--format", "dot"},
					{"check", "--until", sc.until, "--policies", repoFile("testdata", "check", "policies"), "--format", "json"},
				} {
					want := run(t, "", append(args, "--db", db)...)
					got := run(t, "", append(args, "--store", store)...)
					if got != want {
						t.Errorf("flowpol %s from ClickHouse: exit %d, want %d\nstdout equal: %v\nstderr:\n%s\nwant:\n%s",
							strings.Join(args, " "), got.code, want.code, got.out == want.out, got.err, want.err)
					}
					if want.out == "" && args[0] != "check" { // check of another scenario's policies may deny nothing
						t.Errorf("flowpol %s wrote nothing: the comparison shows nothing", strings.Join(args, " "))
					}
				}
			})
		}
	}
}

// A store that is not there is a clear error naming the URL, before
// anything is read.
func TestClickHouseUnreachable(t *testing.T) {
	srv := startClickHouse(t, 1)
	addr := srv[0].Addr()
	chserver.Stop(srv)
	store := "clickhouse://" + addr + "/flowpol?cluster=prod&dial_timeout=1s"
	for _, args := range [][]string{
		{"generate", "--store", store},
		{"status", "--store", store},
		{"learn", "--from", repoFile("testdata", "example", "flows.jsonl"), "--inventory", repoFile("testdata", "example", "cluster.yaml"), "--store", store},
	} {
		r := run(t, "", args...)
		if r.code == 0 || !strings.Contains(r.err, "clickhouse://"+addr+"/flowpol") || !strings.Contains(r.err, "unavailable") {
			t.Errorf("flowpol %s: exit %d, want an error naming the URL and saying it is unavailable:\n%s", args[0], r.code, r.err)
		}
	}
	r := run(t, "", "generate", "--store", "clickhouse://"+addr+"/flow-pol")
	if r.code == 0 || !strings.Contains(r.err, "database") {
		t.Errorf("a bad database name: exit %d:\n%s", r.code, r.err)
	}
}
