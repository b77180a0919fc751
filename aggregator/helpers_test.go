package aggregator

import (
	"net/netip"
	"testing"

	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/resolve"
)

func exampleResolver(t testing.TB) *resolve.Static {
	t.Helper()
	inv, err := inventory.LoadFile("../testdata/example/cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return resolve.New(inv, resolve.Options{ClusterCIDRs: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12")}})
}
