package rules_test

import (
	"testing"

	"github.com/flowpol/flowpol/internal/randnet"
	"github.com/flowpol/flowpol/rules"
)

// TestDecideMatchesEvaluator compiles random clusters' policies and checks
// that the tables decide every probe (each ordered pair of pods, over IPv4
// and IPv6, and each pod with each address outside the pods, both ways, on
// each port and protocol) as the evaluator does. A wrong class, CIDR
// containment, port prefix or named-port resolution shows as a
// disagreement.
func TestDecideMatchesEvaluator(t *testing.T) {
	cases := 2000
	if testing.Short() {
		cases = 300
	}
	var probes, allowed int
	for i := range cases {
		b, err := randnet.Bind(randnet.New(20261123, i).World())
		if err != nil {
			t.Fatal(err)
		}
		for _, pr := range b.Pairs() {
			for _, port := range randnet.Ports() {
				for _, proto := range randnet.Protocols() {
					want := b.Engine.Check(pr[0].Peer, pr[1].Peer, port, proto)
					got := b.Tables.Decide(pr[0].Addr, pr[1].Addr, port, proto)
					if got.Allowed != want.Allowed {
						y, _ := rules.Marshal(b.Tables.Set)
						t.Fatalf("case %d: %s -> %s %d/%s: tables say allowed=%v, evaluator %v (%s)\n%s",
							i, pr[0], pr[1], port, proto, got.Allowed, want.Allowed, want.Reason, y)
					}
					probes++
					if want.Allowed {
						allowed++
					}
				}
			}
		}
	}
	t.Logf("%d cases, %d probes, %d allowed", cases, probes, allowed)
	if allowed < probes/10 || probes-allowed < probes/10 {
		t.Errorf("%d of %d probes allowed: too lax or too strict to compare", allowed, probes)
	}
}
