package evaluator_test

// conformanceCases are the probes of the upstream conformance tests of
// sigs.k8s.io/network-policy-api v0.3.0 (conformance/tests/*standard*.go),
// one per PokeServer call, with the mutations each subtest makes to the
// policies, cumulative within a test as they are on the cluster. Left out:
// the inline-CIDR tests (they write rules from the pods' addresses) and
// the same-priority tests (their subtests poke through a helper) and the
// pod-selector tests (they relabel pods between probes).
var conformanceCases = []conformanceCase{
	{
		file: "admin-network-policy-standard-egress-sctp-rules.go", manifest: "base/admin_tier/standard-egress-sctp-rules.yaml",
		name: "Should support an 'allow-egress' policy for SCTP protocol; ensure rule ordering is respected",
		probes: []conformanceProbe{
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-gryffindor/harry-potter-0", "SCTP", 9003, true},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-gryffindor/harry-potter-0", "SCTP", 9005, true},
		},
	},
	{
		file: "admin-network-policy-standard-egress-sctp-rules.go", manifest: "base/admin_tier/standard-egress-sctp-rules.yaml",
		name: "Should support an 'allow-egress' policy for SCTP protocol at the specified port",
		probes: []conformanceProbe{
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-hufflepuff/cedric-diggory-1", "SCTP", 9003, true},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-hufflepuff/cedric-diggory-1", "SCTP", 9005, false},
		},
	},
	{
		file: "admin-network-policy-standard-egress-sctp-rules.go", manifest: "base/admin_tier/standard-egress-sctp-rules.yaml",
		name: "Should support an 'deny-egress' policy for SCTP protocol; ensure rule ordering is respected",
		mutations: []mutation{
			{policy: "egress-sctp", swap: "Egress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-gryffindor/harry-potter-1", "SCTP", 9003, false},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-gryffindor/harry-potter-1", "SCTP", 9005, false},
		},
	},
	{
		file: "admin-network-policy-standard-egress-sctp-rules.go", manifest: "base/admin_tier/standard-egress-sctp-rules.yaml",
		name: "Should support a 'deny-egress' policy for SCTP protocol at the specified port",
		mutations: []mutation{
			{policy: "egress-sctp", swap: "Egress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-slytherin/draco-malfoy-0", "SCTP", 9003, false},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-slytherin/draco-malfoy-0", "SCTP", 9005, true},
		},
	},
	{
		file: "admin-network-policy-standard-egress-sctp-rules.go", manifest: "base/admin_tier/standard-egress-sctp-rules.yaml",
		name: "Should support an 'pass-egress' policy for SCTP protocol; ensure rule ordering is respected",
		mutations: []mutation{
			{policy: "egress-sctp", swap: "Egress", a: 0, b: 1},
			{policy: "egress-sctp", swap: "Egress", a: 0, b: 2},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-gryffindor/harry-potter-1", "SCTP", 9003, true},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-gryffindor/harry-potter-1", "SCTP", 9005, true},
		},
	},
	{
		file: "admin-network-policy-standard-egress-sctp-rules.go", manifest: "base/admin_tier/standard-egress-sctp-rules.yaml",
		name: "Should support a 'pass-egress' policy for SCTP protocol at the specified port",
		mutations: []mutation{
			{policy: "egress-sctp", swap: "Egress", a: 0, b: 1},
			{policy: "egress-sctp", swap: "Egress", a: 0, b: 2},
			{policy: "egress-sctp", swap: "Egress", a: 3, b: 4},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-slytherin/draco-malfoy-0", "SCTP", 9003, true},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-slytherin/draco-malfoy-0", "SCTP", 9005, true},
		},
	},
	{
		file: "admin-network-policy-standard-egress-tcp-rules.go", manifest: "base/admin_tier/standard-egress-tcp-rules.yaml",
		name: "Should support an 'allow-egress' policy for TCP protocol; ensure rule ordering is respected",
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-ravenclaw/luna-lovegood-0", "TCP", 80, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-ravenclaw/luna-lovegood-0", "TCP", 8080, true},
		},
	},
	{
		file: "admin-network-policy-standard-egress-tcp-rules.go", manifest: "base/admin_tier/standard-egress-tcp-rules.yaml",
		name: "Should support an 'allow-egress' policy for TCP protocol at the specified port",
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-hufflepuff/cedric-diggory-1", "TCP", 8080, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-hufflepuff/cedric-diggory-1", "TCP", 80, false},
		},
	},
	{
		file: "admin-network-policy-standard-egress-tcp-rules.go", manifest: "base/admin_tier/standard-egress-tcp-rules.yaml",
		name: "Should not affect ingress traffic when only egress rules are specified",
		probes: []conformanceProbe{
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 80, true},
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-gryffindor/harry-potter-1", "TCP", 80, true},
		},
	},
	{
		file: "admin-network-policy-standard-egress-tcp-rules.go", manifest: "base/admin_tier/standard-egress-tcp-rules.yaml",
		name: "Should support an 'deny-egress' policy for TCP protocol; ensure rule ordering is respected",
		mutations: []mutation{
			{policy: "egress-tcp", swap: "Egress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-ravenclaw/luna-lovegood-1", "TCP", 80, false},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-ravenclaw/luna-lovegood-1", "TCP", 8080, false},
		},
	},
	{
		file: "admin-network-policy-standard-egress-tcp-rules.go", manifest: "base/admin_tier/standard-egress-tcp-rules.yaml",
		name: "Should support a 'deny-egress' policy for TCP protocol at the specified port",
		mutations: []mutation{
			{policy: "egress-tcp", swap: "Egress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-slytherin/draco-malfoy-0", "TCP", 80, false},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-slytherin/draco-malfoy-0", "TCP", 8080, true},
		},
	},
	{
		file: "admin-network-policy-standard-egress-tcp-rules.go", manifest: "base/admin_tier/standard-egress-tcp-rules.yaml",
		name: "Should support an 'pass-egress' policy for TCP protocol; ensure rule ordering is respected",
		mutations: []mutation{
			{policy: "egress-tcp", swap: "Egress", a: 0, b: 1},
			{policy: "egress-tcp", swap: "Egress", a: 0, b: 2},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-ravenclaw/luna-lovegood-0", "TCP", 80, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-ravenclaw/luna-lovegood-0", "TCP", 8080, true},
		},
	},
	{
		file: "admin-network-policy-standard-egress-tcp-rules.go", manifest: "base/admin_tier/standard-egress-tcp-rules.yaml",
		name: "Should support a 'pass-egress' policy for TCP protocol at the specified port",
		mutations: []mutation{
			{policy: "egress-tcp", swap: "Egress", a: 0, b: 1},
			{policy: "egress-tcp", swap: "Egress", a: 0, b: 2},
			{policy: "egress-tcp", swap: "Egress", a: 3, b: 4},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-slytherin/draco-malfoy-0", "TCP", 80, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-slytherin/draco-malfoy-0", "TCP", 8080, true},
		},
	},
	{
		file: "admin-network-policy-standard-egress-udp-rules.go", manifest: "base/admin_tier/standard-egress-udp-rules.yaml",
		name: "Should support an 'allow-egress' policy for UDP protocol; ensure rule ordering is respected",
		probes: []conformanceProbe{
			{"network-policy-conformance-hufflepuff/cedric-diggory-0", "network-policy-conformance-ravenclaw/luna-lovegood-0", "UDP", 53, true},
			{"network-policy-conformance-hufflepuff/cedric-diggory-1", "network-policy-conformance-ravenclaw/luna-lovegood-0", "UDP", 5353, true},
		},
	},
	{
		file: "admin-network-policy-standard-egress-udp-rules.go", manifest: "base/admin_tier/standard-egress-udp-rules.yaml",
		name: "Should support an 'allow-egress' policy for UDP protocol at the specified port",
		probes: []conformanceProbe{
			{"network-policy-conformance-hufflepuff/cedric-diggory-0", "network-policy-conformance-gryffindor/harry-potter-1", "UDP", 53, true},
			{"network-policy-conformance-hufflepuff/cedric-diggory-1", "network-policy-conformance-gryffindor/harry-potter-1", "UDP", 5353, false},
		},
	},
	{
		file: "admin-network-policy-standard-egress-udp-rules.go", manifest: "base/admin_tier/standard-egress-udp-rules.yaml",
		name: "Should support an 'deny-egress' policy for UDP protocol; ensure rule ordering is respected",
		mutations: []mutation{
			{policy: "egress-udp", swap: "Egress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-hufflepuff/cedric-diggory-0", "network-policy-conformance-ravenclaw/luna-lovegood-1", "UDP", 53, false},
			{"network-policy-conformance-hufflepuff/cedric-diggory-1", "network-policy-conformance-ravenclaw/luna-lovegood-1", "UDP", 5353, false},
		},
	},
	{
		file: "admin-network-policy-standard-egress-udp-rules.go", manifest: "base/admin_tier/standard-egress-udp-rules.yaml",
		name: "Should support a 'deny-egress' policy for UDP protocol at the specified port",
		mutations: []mutation{
			{policy: "egress-udp", swap: "Egress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-hufflepuff/cedric-diggory-0", "network-policy-conformance-slytherin/draco-malfoy-0", "UDP", 5353, false},
			{"network-policy-conformance-hufflepuff/cedric-diggory-1", "network-policy-conformance-slytherin/draco-malfoy-0", "UDP", 53, true},
		},
	},
	{
		file: "admin-network-policy-standard-egress-udp-rules.go", manifest: "base/admin_tier/standard-egress-udp-rules.yaml",
		name: "Should support an 'pass-egress' policy for UDP protocol; ensure rule ordering is respected",
		mutations: []mutation{
			{policy: "egress-udp", swap: "Egress", a: 0, b: 1},
			{policy: "egress-udp", swap: "Egress", a: 0, b: 2},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-hufflepuff/cedric-diggory-0", "network-policy-conformance-ravenclaw/luna-lovegood-1", "UDP", 5353, true},
			{"network-policy-conformance-hufflepuff/cedric-diggory-1", "network-policy-conformance-ravenclaw/luna-lovegood-1", "UDP", 53, true},
		},
	},
	{
		file: "admin-network-policy-standard-egress-udp-rules.go", manifest: "base/admin_tier/standard-egress-udp-rules.yaml",
		name: "Should support a 'pass-egress' policy for UDP protocol at the specified port",
		mutations: []mutation{
			{policy: "egress-udp", swap: "Egress", a: 0, b: 1},
			{policy: "egress-udp", swap: "Egress", a: 0, b: 2},
			{policy: "egress-udp", swap: "Egress", a: 3, b: 4},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-hufflepuff/cedric-diggory-0", "network-policy-conformance-slytherin/draco-malfoy-0", "UDP", 5353, true},
			{"network-policy-conformance-hufflepuff/cedric-diggory-1", "network-policy-conformance-slytherin/draco-malfoy-0", "UDP", 53, true},
		},
	},
	{
		file: "admin-network-policy-standard-gress-rules.go", manifest: "base/admin_tier/standard-gress-rules-combined.yaml",
		name: "Should support an 'allow-gress' policy across different protocols",
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-ravenclaw/luna-lovegood-0", "TCP", 80, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-ravenclaw/luna-lovegood-0", "UDP", 53, true},
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-ravenclaw/luna-lovegood-0", "SCTP", 9003, true},
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 80, true},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-gryffindor/harry-potter-0", "UDP", 53, true},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-gryffindor/harry-potter-0", "SCTP", 9003, true},
		},
	},
	{
		file: "admin-network-policy-standard-gress-rules.go", manifest: "base/admin_tier/standard-gress-rules-combined.yaml",
		name: "Should support an 'allow-gress' policy across different protocols at the specified ports",
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-hufflepuff/cedric-diggory-1", "TCP", 8080, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-hufflepuff/cedric-diggory-1", "TCP", 80, false},
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-hufflepuff/cedric-diggory-1", "UDP", 5353, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-hufflepuff/cedric-diggory-1", "UDP", 53, false},
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-hufflepuff/cedric-diggory-1", "SCTP", 9003, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-hufflepuff/cedric-diggory-1", "SCTP", 9005, false},
			{"network-policy-conformance-hufflepuff/cedric-diggory-0", "network-policy-conformance-gryffindor/harry-potter-1", "TCP", 80, true},
			{"network-policy-conformance-hufflepuff/cedric-diggory-1", "network-policy-conformance-gryffindor/harry-potter-1", "TCP", 8080, false},
			{"network-policy-conformance-hufflepuff/cedric-diggory-0", "network-policy-conformance-gryffindor/harry-potter-1", "UDP", 5353, true},
			{"network-policy-conformance-hufflepuff/cedric-diggory-1", "network-policy-conformance-gryffindor/harry-potter-1", "UDP", 53, false},
			{"network-policy-conformance-hufflepuff/cedric-diggory-0", "network-policy-conformance-gryffindor/harry-potter-1", "SCTP", 9003, true},
			{"network-policy-conformance-hufflepuff/cedric-diggory-1", "network-policy-conformance-gryffindor/harry-potter-1", "SCTP", 9005, false},
		},
	},
	{
		file: "admin-network-policy-standard-gress-rules.go", manifest: "base/admin_tier/standard-gress-rules-combined.yaml",
		name: "Should support an 'deny-gress' policy across different protocols",
		mutations: []mutation{
			{policy: "gress-rules", swap: "Egress", a: 0, b: 1},
			{policy: "gress-rules", swap: "Ingress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-ravenclaw/luna-lovegood-1", "TCP", 80, false},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-ravenclaw/luna-lovegood-1", "UDP", 53, false},
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-ravenclaw/luna-lovegood-1", "SCTP", 9003, false},
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-gryffindor/harry-potter-1", "TCP", 80, false},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-gryffindor/harry-potter-1", "UDP", 53, false},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-gryffindor/harry-potter-1", "SCTP", 9003, false},
		},
	},
	{
		file: "admin-network-policy-standard-gress-rules.go", manifest: "base/admin_tier/standard-gress-rules-combined.yaml",
		name: "Should support a 'deny-gress' policy across different protocols at the specified ports",
		mutations: []mutation{
			{policy: "gress-rules", swap: "Egress", a: 0, b: 1},
			{policy: "gress-rules", swap: "Ingress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-slytherin/draco-malfoy-0", "TCP", 80, false},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-slytherin/draco-malfoy-0", "TCP", 8080, true},
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-slytherin/draco-malfoy-0", "UDP", 53, false},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-slytherin/draco-malfoy-0", "UDP", 5353, true},
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-slytherin/draco-malfoy-0", "SCTP", 9003, false},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-slytherin/draco-malfoy-0", "SCTP", 9005, true},
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 80, false},
			{"network-policy-conformance-slytherin/draco-malfoy-1", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 8080, true},
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-gryffindor/harry-potter-0", "UDP", 53, false},
			{"network-policy-conformance-slytherin/draco-malfoy-1", "network-policy-conformance-gryffindor/harry-potter-0", "UDP", 5353, true},
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-gryffindor/harry-potter-0", "SCTP", 9003, false},
			{"network-policy-conformance-slytherin/draco-malfoy-1", "network-policy-conformance-gryffindor/harry-potter-0", "SCTP", 9005, true},
		},
	},
	{
		file: "admin-network-policy-standard-gress-rules.go", manifest: "base/admin_tier/standard-gress-rules-combined.yaml",
		name: "Should support an 'pass-gress' policy across different protocols",
		mutations: []mutation{
			{policy: "gress-rules", swap: "Egress", a: 0, b: 1},
			{policy: "gress-rules", swap: "Ingress", a: 0, b: 1},
			{policy: "gress-rules", swap: "Egress", a: 0, b: 2},
			{policy: "gress-rules", swap: "Ingress", a: 0, b: 2},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-ravenclaw/luna-lovegood-0", "TCP", 80, true},
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-ravenclaw/luna-lovegood-0", "UDP", 5353, true},
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-ravenclaw/luna-lovegood-0", "SCTP", 9003, true},
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 80, true},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-gryffindor/harry-potter-0", "UDP", 53, true},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-gryffindor/harry-potter-0", "SCTP", 9003, true},
		},
	},
	{
		file: "admin-network-policy-standard-gress-rules.go", manifest: "base/admin_tier/standard-gress-rules-combined.yaml",
		name: "Should support a 'pass-gress' policy across different protocols at the specified ports",
		mutations: []mutation{
			{policy: "gress-rules", swap: "Egress", a: 0, b: 1},
			{policy: "gress-rules", swap: "Ingress", a: 0, b: 1},
			{policy: "gress-rules", swap: "Egress", a: 0, b: 2},
			{policy: "gress-rules", swap: "Ingress", a: 0, b: 2},
			{policy: "gress-rules", swap: "Egress", a: 3, b: 4},
			{policy: "gress-rules", swap: "Ingress", a: 3, b: 4},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-slytherin/draco-malfoy-0", "TCP", 80, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-slytherin/draco-malfoy-0", "TCP", 8080, true},
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-slytherin/draco-malfoy-0", "UDP", 53, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-slytherin/draco-malfoy-0", "UDP", 5353, true},
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-slytherin/draco-malfoy-0", "SCTP", 9003, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-slytherin/draco-malfoy-0", "SCTP", 9005, true},
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 80, true},
			{"network-policy-conformance-slytherin/draco-malfoy-1", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 8080, true},
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-gryffindor/harry-potter-0", "UDP", 53, true},
			{"network-policy-conformance-slytherin/draco-malfoy-1", "network-policy-conformance-gryffindor/harry-potter-0", "UDP", 5353, true},
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-gryffindor/harry-potter-0", "SCTP", 9003, true},
			{"network-policy-conformance-slytherin/draco-malfoy-1", "network-policy-conformance-gryffindor/harry-potter-0", "SCTP", 9005, true},
		},
	},
	{
		file: "admin-network-policy-standard-ingress-sctp-rules.go", manifest: "base/admin_tier/standard-ingress-sctp-rules.yaml",
		name: "Should support an 'allow-ingress' policy for SCTP protocol; ensure rule ordering is respected",
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-ravenclaw/luna-lovegood-0", "SCTP", 9003, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-ravenclaw/luna-lovegood-0", "SCTP", 9005, true},
		},
	},
	{
		file: "admin-network-policy-standard-ingress-sctp-rules.go", manifest: "base/admin_tier/standard-ingress-sctp-rules.yaml",
		name: "Should support an 'allow-ingress' policy for SCTP protocol at the specified port",
		probes: []conformanceProbe{
			{"network-policy-conformance-hufflepuff/cedric-diggory-0", "network-policy-conformance-ravenclaw/luna-lovegood-1", "SCTP", 9003, true},
			{"network-policy-conformance-hufflepuff/cedric-diggory-1", "network-policy-conformance-ravenclaw/luna-lovegood-1", "SCTP", 9005, false},
		},
	},
	{
		file: "admin-network-policy-standard-ingress-sctp-rules.go", manifest: "base/admin_tier/standard-ingress-sctp-rules.yaml",
		name: "Should support an 'deny-ingress' policy for SCTP protocol; ensure rule ordering is respected",
		mutations: []mutation{
			{policy: "ingress-sctp", swap: "Ingress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-ravenclaw/luna-lovegood-1", "SCTP", 9003, false},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-ravenclaw/luna-lovegood-1", "SCTP", 9005, false},
		},
	},
	{
		file: "admin-network-policy-standard-ingress-sctp-rules.go", manifest: "base/admin_tier/standard-ingress-sctp-rules.yaml",
		name: "Should support a 'deny-ingress' policy for SCTP protocol at the specified port",
		mutations: []mutation{
			{policy: "ingress-sctp", swap: "Ingress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-ravenclaw/luna-lovegood-0", "SCTP", 9003, false},
			{"network-policy-conformance-slytherin/draco-malfoy-1", "network-policy-conformance-ravenclaw/luna-lovegood-0", "SCTP", 9005, true},
		},
	},
	{
		file: "admin-network-policy-standard-ingress-sctp-rules.go", manifest: "base/admin_tier/standard-ingress-sctp-rules.yaml",
		name: "Should support an 'pass-ingress' policy for SCTP protocol; ensure rule ordering is respected",
		mutations: []mutation{
			{policy: "ingress-sctp", swap: "Ingress", a: 0, b: 1},
			{policy: "ingress-sctp", swap: "Ingress", a: 0, b: 2},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-ravenclaw/luna-lovegood-1", "SCTP", 9003, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-ravenclaw/luna-lovegood-1", "SCTP", 9005, true},
		},
	},
	{
		file: "admin-network-policy-standard-ingress-sctp-rules.go", manifest: "base/admin_tier/standard-ingress-sctp-rules.yaml",
		name: "Should support a 'pass-ingress' policy for SCTP protocol at the specified port",
		mutations: []mutation{
			{policy: "ingress-sctp", swap: "Ingress", a: 0, b: 1},
			{policy: "ingress-sctp", swap: "Ingress", a: 0, b: 2},
			{policy: "ingress-sctp", swap: "Ingress", a: 3, b: 4},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-ravenclaw/luna-lovegood-0", "SCTP", 9003, true},
			{"network-policy-conformance-slytherin/draco-malfoy-1", "network-policy-conformance-ravenclaw/luna-lovegood-0", "SCTP", 9005, true},
		},
	},
	{
		file: "admin-network-policy-standard-ingress-tcp-rules.go", manifest: "base/admin_tier/standard-ingress-tcp-rules.yaml",
		name: "Should support an 'allow-ingress' policy for TCP protocol; ensure rule ordering is respected",
		probes: []conformanceProbe{
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 80, true},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 8080, true},
		},
	},
	{
		file: "admin-network-policy-standard-ingress-tcp-rules.go", manifest: "base/admin_tier/standard-ingress-tcp-rules.yaml",
		name: "Should support an 'allow-ingress' policy for TCP protocol at the specified port",
		probes: []conformanceProbe{
			{"network-policy-conformance-hufflepuff/cedric-diggory-0", "network-policy-conformance-gryffindor/harry-potter-1", "TCP", 80, true},
			{"network-policy-conformance-hufflepuff/cedric-diggory-1", "network-policy-conformance-gryffindor/harry-potter-1", "TCP", 8080, false},
		},
	},
	{
		file: "admin-network-policy-standard-ingress-tcp-rules.go", manifest: "base/admin_tier/standard-ingress-tcp-rules.yaml",
		name: "Should not affect egress traffic when only ingress rules are specified",
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-ravenclaw/luna-lovegood-0", "TCP", 80, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-slytherin/draco-malfoy-0", "TCP", 80, true},
		},
	},
	{
		file: "admin-network-policy-standard-ingress-tcp-rules.go", manifest: "base/admin_tier/standard-ingress-tcp-rules.yaml",
		name: "Should support an 'deny-ingress' policy for TCP protocol; ensure rule ordering is respected",
		mutations: []mutation{
			{policy: "ingress-tcp", swap: "Ingress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-gryffindor/harry-potter-1", "TCP", 80, false},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-gryffindor/harry-potter-1", "TCP", 8080, false},
		},
	},
	{
		file: "admin-network-policy-standard-ingress-tcp-rules.go", manifest: "base/admin_tier/standard-ingress-tcp-rules.yaml",
		name: "Should support a 'deny-ingress' policy for TCP protocol at the specified port",
		mutations: []mutation{
			{policy: "ingress-tcp", swap: "Ingress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 80, false},
			{"network-policy-conformance-slytherin/draco-malfoy-1", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 8080, true},
		},
	},
	{
		file: "admin-network-policy-standard-ingress-tcp-rules.go", manifest: "base/admin_tier/standard-ingress-tcp-rules.yaml",
		name: "Should support an 'pass-ingress' policy for TCP protocol; ensure rule ordering is respected",
		mutations: []mutation{
			{policy: "ingress-tcp", swap: "Ingress", a: 0, b: 1},
			{policy: "ingress-tcp", swap: "Ingress", a: 0, b: 2},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 80, true},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 8080, true},
		},
	},
	{
		file: "admin-network-policy-standard-ingress-tcp-rules.go", manifest: "base/admin_tier/standard-ingress-tcp-rules.yaml",
		name: "Should support a 'pass-ingress' policy for TCP protocol at the specified port",
		mutations: []mutation{
			{policy: "ingress-tcp", swap: "Ingress", a: 0, b: 1},
			{policy: "ingress-tcp", swap: "Ingress", a: 0, b: 2},
			{policy: "ingress-tcp", swap: "Ingress", a: 3, b: 4},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 80, true},
			{"network-policy-conformance-slytherin/draco-malfoy-1", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 8080, true},
		},
	},
	{
		file: "admin-network-policy-standard-ingress-udp-rules.go", manifest: "base/admin_tier/standard-ingress-udp-rules.yaml",
		name: "Should support an 'allow-ingress' policy for UDP protocol; ensure rule ordering is respected",
		probes: []conformanceProbe{
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-hufflepuff/cedric-diggory-0", "UDP", 53, true},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-hufflepuff/cedric-diggory-0", "UDP", 5353, true},
		},
	},
	{
		file: "admin-network-policy-standard-ingress-udp-rules.go", manifest: "base/admin_tier/standard-ingress-udp-rules.yaml",
		name: "Should support an 'allow-ingress' policy for UDP protocol at the specified port",
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-hufflepuff/cedric-diggory-1", "UDP", 53, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-hufflepuff/cedric-diggory-1", "UDP", 5353, false},
		},
	},
	{
		file: "admin-network-policy-standard-ingress-udp-rules.go", manifest: "base/admin_tier/standard-ingress-udp-rules.yaml",
		name: "Should support an 'deny-ingress' policy for UDP protocol; ensure rule ordering is respected",
		mutations: []mutation{
			{policy: "ingress-udp", swap: "Ingress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-hufflepuff/cedric-diggory-1", "UDP", 53, false},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-hufflepuff/cedric-diggory-1", "UDP", 5353, false},
		},
	},
	{
		file: "admin-network-policy-standard-ingress-udp-rules.go", manifest: "base/admin_tier/standard-ingress-udp-rules.yaml",
		name: "Should support a 'deny-ingress' policy for UDP protocol at the specified port",
		mutations: []mutation{
			{policy: "ingress-udp", swap: "Ingress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-hufflepuff/cedric-diggory-0", "UDP", 5353, false},
			{"network-policy-conformance-slytherin/draco-malfoy-1", "network-policy-conformance-hufflepuff/cedric-diggory-0", "UDP", 53, true},
		},
	},
	{
		file: "admin-network-policy-standard-ingress-udp-rules.go", manifest: "base/admin_tier/standard-ingress-udp-rules.yaml",
		name: "Should support an 'pass-ingress' policy for UDP protocol; ensure rule ordering is respected",
		mutations: []mutation{
			{policy: "ingress-udp", swap: "Ingress", a: 0, b: 1},
			{policy: "ingress-udp", swap: "Ingress", a: 0, b: 2},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-hufflepuff/cedric-diggory-1", "UDP", 5353, true},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-hufflepuff/cedric-diggory-1", "UDP", 53, true},
		},
	},
	{
		file: "admin-network-policy-standard-ingress-udp-rules.go", manifest: "base/admin_tier/standard-ingress-udp-rules.yaml",
		name: "Should support a 'pass-ingress' policy for UDP protocol at the specified port",
		mutations: []mutation{
			{policy: "ingress-udp", swap: "Ingress", a: 0, b: 1},
			{policy: "ingress-udp", swap: "Ingress", a: 0, b: 2},
			{policy: "ingress-udp", swap: "Ingress", a: 3, b: 4},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-hufflepuff/cedric-diggory-0", "UDP", 5353, true},
			{"network-policy-conformance-slytherin/draco-malfoy-1", "network-policy-conformance-hufflepuff/cedric-diggory-0", "UDP", 53, true},
		},
	},
	{
		file: "admin-network-policy-standard-integration.go", manifest: "base/api_integration/standard-anp-np-banp.yaml",
		name: "Should Deny traffic from slytherin to gryffindor respecting admin CNP",
		probes: []conformanceProbe{
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 80, false},
			{"network-policy-conformance-slytherin/draco-malfoy-1", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 8080, false},
		},
	},
	{
		file: "admin-network-policy-standard-integration.go", manifest: "base/api_integration/standard-anp-np-banp.yaml",
		name: "Should Deny traffic to slytherin from gryffindor respecting admin CNP",
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-slytherin/draco-malfoy-0", "TCP", 80, false},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-slytherin/draco-malfoy-0", "TCP", 8080, false},
		},
	},
	{
		file: "admin-network-policy-standard-integration.go", manifest: "base/api_integration/standard-anp-np-banp.yaml",
		name: "Should support a 'pass-ingress' policy for admin CNP and respect the match for network policy",
		mutations: []mutation{
			{policy: "pass-example", action: "Pass", rules: "Ingress", a: 0},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 80, true},
			{"network-policy-conformance-slytherin/draco-malfoy-1", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 8080, true},
		},
	},
	{
		file: "admin-network-policy-standard-integration.go", manifest: "base/api_integration/standard-anp-np-banp.yaml",
		name: "Should support a 'pass-egress' policy for admin CNP and respect the match for network policy",
		mutations: []mutation{
			{policy: "pass-example", action: "Pass", rules: "Ingress", a: 0},
			{policy: "pass-example", action: "Pass", rules: "Egress", a: 0},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-slytherin/draco-malfoy-0", "TCP", 80, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-slytherin/draco-malfoy-0", "TCP", 8080, true},
		},
	},
	{
		file: "admin-network-policy-standard-integration.go", manifest: "base/api_integration/standard-anp-np-banp.yaml",
		name: "Should support a 'pass-ingress' policy for admin CNP and respect the match for baseline cluster network policy",
		mutations: []mutation{
			{policy: "pass-example", action: "Pass", rules: "Ingress", a: 0},
			{policy: "pass-example", action: "Pass", rules: "Egress", a: 0},
			{deleteNetworkPolicy: "network-policy-conformance-gryffindor/allow-gress-from-to-slytherin-to-gryffindor"},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 80, false},
			{"network-policy-conformance-slytherin/draco-malfoy-1", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 8080, false},
		},
	},
	{
		file: "admin-network-policy-standard-integration.go", manifest: "base/api_integration/standard-anp-np-banp.yaml",
		name: "Should support a 'pass-egress' policy for admin CNP and respect the match for baseline cluster network policy",
		mutations: []mutation{
			{policy: "pass-example", action: "Pass", rules: "Ingress", a: 0},
			{policy: "pass-example", action: "Pass", rules: "Egress", a: 0},
			{deleteNetworkPolicy: "network-policy-conformance-gryffindor/allow-gress-from-to-slytherin-to-gryffindor"},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-slytherin/draco-malfoy-0", "TCP", 80, false},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-slytherin/draco-malfoy-0", "TCP", 8080, false},
		},
	},
	{
		file: "admin-network-policy-standard-port-range-rules.go", manifest: "base/admin_tier/standard-port-range-rules-combined.yaml",
		name: "Should support egress port range rules across different protocols",
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-ravenclaw/luna-lovegood-0", "TCP", 80, true},
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-ravenclaw/luna-lovegood-0", "TCP", 8080, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-ravenclaw/luna-lovegood-0", "UDP", 53, false},
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-hufflepuff/cedric-diggory-0", "UDP", 53, true},
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-hufflepuff/cedric-diggory-0", "UDP", 5353, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-hufflepuff/cedric-diggory-0", "TCP", 80, false},
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-slytherin/draco-malfoy-0", "SCTP", 9003, true},
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-slytherin/draco-malfoy-0", "SCTP", 9005, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-slytherin/draco-malfoy-0", "TCP", 80, false},
		},
	},
	{
		file: "admin-network-policy-standard-port-range-rules.go", manifest: "base/admin_tier/standard-port-range-rules-combined.yaml",
		name: "Should support ingress port range rules across different protocols",
		probes: []conformanceProbe{
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 80, true},
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 8080, true},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-gryffindor/harry-potter-0", "UDP", 53, false},
			{"network-policy-conformance-hufflepuff/cedric-diggory-0", "network-policy-conformance-gryffindor/harry-potter-0", "UDP", 53, true},
			{"network-policy-conformance-hufflepuff/cedric-diggory-0", "network-policy-conformance-gryffindor/harry-potter-0", "UDP", 5353, true},
			{"network-policy-conformance-hufflepuff/cedric-diggory-1", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 80, false},
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-gryffindor/harry-potter-0", "SCTP", 9003, true},
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-gryffindor/harry-potter-0", "SCTP", 9005, true},
			{"network-policy-conformance-slytherin/draco-malfoy-1", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 80, false},
		},
	},
	{
		file: "admin-network-policy-standard-priority.go", manifest: "base/admin_tier/standard-priority-field.yaml",
		name: "Should Deny traffic from slytherin to gryffindor respecting admin CNP",
		probes: []conformanceProbe{
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 80, false},
			{"network-policy-conformance-slytherin/draco-malfoy-1", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 8080, false},
		},
	},
	{
		file: "admin-network-policy-standard-priority.go", manifest: "base/admin_tier/standard-priority-field.yaml",
		name: "Should Deny traffic to slytherin from gryffindor respecting admin CNP",
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-slytherin/draco-malfoy-0", "TCP", 80, false},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-slytherin/draco-malfoy-0", "TCP", 8080, false},
		},
	},
	{
		file: "admin-network-policy-standard-priority.go", manifest: "base/admin_tier/standard-priority-field.yaml",
		name: "Should respect admin CNP priority field; thus passing both ingress and egress traffic over to baseline CNP",
		mutations: []mutation{
			{policy: "old-priority-60-new-priority-40-example", priority: 40},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 80, true},
			{"network-policy-conformance-slytherin/draco-malfoy-1", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 8080, true},
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-slytherin/draco-malfoy-0", "TCP", 80, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-slytherin/draco-malfoy-0", "TCP", 8080, true},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-egress-sctp-rules.go", manifest: "base/baseline_tier/standard-egress-sctp-rules.yaml",
		name: "Should support an 'allow-egress' policy for SCTP protocol; ensure rule ordering is respected",
		probes: []conformanceProbe{
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-gryffindor/harry-potter-0", "SCTP", 9003, true},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-gryffindor/harry-potter-0", "SCTP", 9005, true},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-egress-sctp-rules.go", manifest: "base/baseline_tier/standard-egress-sctp-rules.yaml",
		name: "Should support an 'allow-egress' policy for SCTP protocol at the specified port",
		probes: []conformanceProbe{
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-hufflepuff/cedric-diggory-1", "SCTP", 9003, true},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-hufflepuff/cedric-diggory-1", "SCTP", 9005, false},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-egress-sctp-rules.go", manifest: "base/baseline_tier/standard-egress-sctp-rules.yaml",
		name: "Should support an 'deny-egress' policy for SCTP protocol; ensure rule ordering is respected",
		mutations: []mutation{
			{policy: "default", swap: "Egress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-gryffindor/harry-potter-1", "SCTP", 9003, false},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-gryffindor/harry-potter-1", "SCTP", 9005, false},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-egress-sctp-rules.go", manifest: "base/baseline_tier/standard-egress-sctp-rules.yaml",
		name: "Should support a 'deny-egress' policy for SCTP protocol at the specified port",
		mutations: []mutation{
			{policy: "default", swap: "Egress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-slytherin/draco-malfoy-0", "SCTP", 9003, false},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-slytherin/draco-malfoy-0", "SCTP", 9005, true},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-egress-tcp-rules.go", manifest: "base/baseline_tier/standard-egress-tcp-rules.yaml",
		name: "Should support an 'allow-egress' policy for TCP protocol; ensure rule ordering is respected",
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-ravenclaw/luna-lovegood-0", "TCP", 80, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-ravenclaw/luna-lovegood-0", "TCP", 8080, true},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-egress-tcp-rules.go", manifest: "base/baseline_tier/standard-egress-tcp-rules.yaml",
		name: "Should support an 'allow-egress' policy for TCP protocol at the specified port",
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-hufflepuff/cedric-diggory-1", "TCP", 8080, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-hufflepuff/cedric-diggory-1", "TCP", 80, false},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-egress-tcp-rules.go", manifest: "base/baseline_tier/standard-egress-tcp-rules.yaml",
		name: "Should not affect ingress traffic when only egress rules are specified",
		probes: []conformanceProbe{
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 80, true},
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-gryffindor/harry-potter-1", "TCP", 80, true},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-egress-tcp-rules.go", manifest: "base/baseline_tier/standard-egress-tcp-rules.yaml",
		name: "Should support an 'deny-egress' policy for TCP protocol; ensure rule ordering is respected",
		mutations: []mutation{
			{policy: "default", swap: "Egress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-ravenclaw/luna-lovegood-1", "TCP", 80, false},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-ravenclaw/luna-lovegood-1", "TCP", 8080, false},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-egress-tcp-rules.go", manifest: "base/baseline_tier/standard-egress-tcp-rules.yaml",
		name: "Should support a 'deny-egress' policy for TCP protocol at the specified port",
		mutations: []mutation{
			{policy: "default", swap: "Egress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-slytherin/draco-malfoy-0", "TCP", 80, false},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-slytherin/draco-malfoy-0", "TCP", 8080, true},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-egress-udp-rules.go", manifest: "base/baseline_tier/standard-egress-udp-rules.yaml",
		name: "Should support an 'allow-egress' policy for UDP protocol; ensure rule ordering is respected",
		probes: []conformanceProbe{
			{"network-policy-conformance-hufflepuff/cedric-diggory-0", "network-policy-conformance-ravenclaw/luna-lovegood-0", "UDP", 53, true},
			{"network-policy-conformance-hufflepuff/cedric-diggory-1", "network-policy-conformance-ravenclaw/luna-lovegood-0", "UDP", 5353, true},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-egress-udp-rules.go", manifest: "base/baseline_tier/standard-egress-udp-rules.yaml",
		name: "Should support an 'allow-egress' policy for UDP protocol at the specified port",
		probes: []conformanceProbe{
			{"network-policy-conformance-hufflepuff/cedric-diggory-0", "network-policy-conformance-gryffindor/harry-potter-1", "UDP", 53, true},
			{"network-policy-conformance-hufflepuff/cedric-diggory-1", "network-policy-conformance-gryffindor/harry-potter-1", "UDP", 5353, false},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-egress-udp-rules.go", manifest: "base/baseline_tier/standard-egress-udp-rules.yaml",
		name: "Should support an 'deny-egress' policy for UDP protocol; ensure rule ordering is respected",
		mutations: []mutation{
			{policy: "default", swap: "Egress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-hufflepuff/cedric-diggory-0", "network-policy-conformance-ravenclaw/luna-lovegood-1", "UDP", 53, false},
			{"network-policy-conformance-hufflepuff/cedric-diggory-1", "network-policy-conformance-ravenclaw/luna-lovegood-1", "UDP", 5353, false},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-egress-udp-rules.go", manifest: "base/baseline_tier/standard-egress-udp-rules.yaml",
		name: "Should support a 'deny-egress' policy for UDP protocol at the specified port",
		mutations: []mutation{
			{policy: "default", swap: "Egress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-hufflepuff/cedric-diggory-0", "network-policy-conformance-slytherin/draco-malfoy-0", "UDP", 5353, false},
			{"network-policy-conformance-hufflepuff/cedric-diggory-1", "network-policy-conformance-slytherin/draco-malfoy-0", "UDP", 53, true},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-gress-rules.go", manifest: "base/baseline_tier/standard-gress-rules-combined.yaml",
		name: "Should support an 'allow-gress' policy across different protocols",
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-ravenclaw/luna-lovegood-0", "TCP", 80, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-ravenclaw/luna-lovegood-0", "UDP", 53, true},
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-ravenclaw/luna-lovegood-0", "SCTP", 9003, true},
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 80, true},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-gryffindor/harry-potter-0", "UDP", 53, true},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-gryffindor/harry-potter-0", "SCTP", 9003, true},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-gress-rules.go", manifest: "base/baseline_tier/standard-gress-rules-combined.yaml",
		name: "Should support an 'allow-gress' policy across different protocols at the specified ports",
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-hufflepuff/cedric-diggory-1", "TCP", 8080, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-hufflepuff/cedric-diggory-1", "TCP", 80, false},
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-hufflepuff/cedric-diggory-1", "UDP", 5353, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-hufflepuff/cedric-diggory-1", "UDP", 53, false},
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-hufflepuff/cedric-diggory-1", "SCTP", 9003, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-hufflepuff/cedric-diggory-1", "SCTP", 9005, false},
			{"network-policy-conformance-hufflepuff/cedric-diggory-0", "network-policy-conformance-gryffindor/harry-potter-1", "TCP", 80, true},
			{"network-policy-conformance-hufflepuff/cedric-diggory-1", "network-policy-conformance-gryffindor/harry-potter-1", "TCP", 8080, false},
			{"network-policy-conformance-hufflepuff/cedric-diggory-0", "network-policy-conformance-gryffindor/harry-potter-1", "UDP", 5353, true},
			{"network-policy-conformance-hufflepuff/cedric-diggory-1", "network-policy-conformance-gryffindor/harry-potter-1", "UDP", 53, false},
			{"network-policy-conformance-hufflepuff/cedric-diggory-0", "network-policy-conformance-gryffindor/harry-potter-1", "SCTP", 9003, true},
			{"network-policy-conformance-hufflepuff/cedric-diggory-1", "network-policy-conformance-gryffindor/harry-potter-1", "SCTP", 9005, false},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-gress-rules.go", manifest: "base/baseline_tier/standard-gress-rules-combined.yaml",
		name: "Should support an 'deny-gress' policy across different protocols",
		mutations: []mutation{
			{policy: "default", swap: "Egress", a: 0, b: 1},
			{policy: "default", swap: "Ingress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-ravenclaw/luna-lovegood-1", "TCP", 80, false},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-ravenclaw/luna-lovegood-1", "UDP", 53, false},
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-ravenclaw/luna-lovegood-1", "SCTP", 9003, false},
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-gryffindor/harry-potter-1", "TCP", 80, false},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-gryffindor/harry-potter-1", "UDP", 53, false},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-gryffindor/harry-potter-1", "SCTP", 9003, false},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-gress-rules.go", manifest: "base/baseline_tier/standard-gress-rules-combined.yaml",
		name: "Should support a 'deny-gress' policy across different protocols at the specified ports",
		mutations: []mutation{
			{policy: "default", swap: "Egress", a: 0, b: 1},
			{policy: "default", swap: "Ingress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-slytherin/draco-malfoy-0", "TCP", 80, false},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-slytherin/draco-malfoy-0", "TCP", 8080, true},
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-slytherin/draco-malfoy-0", "UDP", 53, false},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-slytherin/draco-malfoy-0", "UDP", 5353, true},
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-slytherin/draco-malfoy-0", "SCTP", 9003, false},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-slytherin/draco-malfoy-0", "SCTP", 9005, true},
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 80, false},
			{"network-policy-conformance-slytherin/draco-malfoy-1", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 8080, true},
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-gryffindor/harry-potter-0", "UDP", 53, false},
			{"network-policy-conformance-slytherin/draco-malfoy-1", "network-policy-conformance-gryffindor/harry-potter-0", "UDP", 5353, true},
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-gryffindor/harry-potter-0", "SCTP", 9003, false},
			{"network-policy-conformance-slytherin/draco-malfoy-1", "network-policy-conformance-gryffindor/harry-potter-0", "SCTP", 9005, true},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-ingress-sctp-rules.go", manifest: "base/baseline_tier/standard-ingress-sctp-rules.yaml",
		name: "Should support an 'allow-ingress' policy for SCTP protocol; ensure rule ordering is respected",
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-ravenclaw/luna-lovegood-0", "SCTP", 9003, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-ravenclaw/luna-lovegood-0", "SCTP", 9005, true},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-ingress-sctp-rules.go", manifest: "base/baseline_tier/standard-ingress-sctp-rules.yaml",
		name: "Should support an 'allow-ingress' policy for SCTP protocol at the specified port",
		probes: []conformanceProbe{
			{"network-policy-conformance-hufflepuff/cedric-diggory-0", "network-policy-conformance-ravenclaw/luna-lovegood-1", "SCTP", 9003, true},
			{"network-policy-conformance-hufflepuff/cedric-diggory-1", "network-policy-conformance-ravenclaw/luna-lovegood-1", "SCTP", 9005, false},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-ingress-sctp-rules.go", manifest: "base/baseline_tier/standard-ingress-sctp-rules.yaml",
		name: "Should support an 'deny-ingress' policy for SCTP protocol; ensure rule ordering is respected",
		mutations: []mutation{
			{policy: "default", swap: "Ingress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-ravenclaw/luna-lovegood-1", "SCTP", 9003, false},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-ravenclaw/luna-lovegood-1", "SCTP", 9005, false},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-ingress-sctp-rules.go", manifest: "base/baseline_tier/standard-ingress-sctp-rules.yaml",
		name: "Should support a 'deny-ingress' policy for SCTP protocol at the specified port",
		mutations: []mutation{
			{policy: "default", swap: "Ingress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-ravenclaw/luna-lovegood-0", "SCTP", 9003, false},
			{"network-policy-conformance-slytherin/draco-malfoy-1", "network-policy-conformance-ravenclaw/luna-lovegood-0", "SCTP", 9005, true},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-ingress-tcp-rules.go", manifest: "base/baseline_tier/standard-ingress-tcp-rules.yaml",
		name: "Should support an 'allow-ingress' policy for TCP protocol; ensure rule ordering is respected",
		probes: []conformanceProbe{
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 80, true},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 8080, true},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-ingress-tcp-rules.go", manifest: "base/baseline_tier/standard-ingress-tcp-rules.yaml",
		name: "Should support an 'allow-ingress' policy for TCP protocol at the specified port",
		probes: []conformanceProbe{
			{"network-policy-conformance-hufflepuff/cedric-diggory-0", "network-policy-conformance-gryffindor/harry-potter-1", "TCP", 80, true},
			{"network-policy-conformance-hufflepuff/cedric-diggory-1", "network-policy-conformance-gryffindor/harry-potter-1", "TCP", 8080, false},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-ingress-tcp-rules.go", manifest: "base/baseline_tier/standard-ingress-tcp-rules.yaml",
		name: "Should not affect egress traffic when only ingress rules are specified",
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-ravenclaw/luna-lovegood-0", "TCP", 80, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-slytherin/draco-malfoy-0", "TCP", 80, true},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-ingress-tcp-rules.go", manifest: "base/baseline_tier/standard-ingress-tcp-rules.yaml",
		name: "Should support an 'deny-ingress' policy for TCP protocol; ensure rule ordering is respected",
		mutations: []mutation{
			{policy: "default", swap: "Ingress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-gryffindor/harry-potter-1", "TCP", 80, false},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-gryffindor/harry-potter-1", "TCP", 8080, false},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-ingress-tcp-rules.go", manifest: "base/baseline_tier/standard-ingress-tcp-rules.yaml",
		name: "Should support a 'deny-ingress' policy for TCP protocol at the specified port",
		mutations: []mutation{
			{policy: "default", swap: "Ingress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 80, false},
			{"network-policy-conformance-slytherin/draco-malfoy-1", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 8080, true},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-ingress-udp-rules.go", manifest: "base/baseline_tier/standard-ingress-udp-rules.yaml",
		name: "Should support an 'allow-ingress' policy for UDP protocol; ensure rule ordering is respected",
		probes: []conformanceProbe{
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-hufflepuff/cedric-diggory-0", "UDP", 53, true},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-hufflepuff/cedric-diggory-0", "UDP", 5353, true},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-ingress-udp-rules.go", manifest: "base/baseline_tier/standard-ingress-udp-rules.yaml",
		name: "Should support an 'allow-ingress' policy for UDP protocol at the specified port",
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-hufflepuff/cedric-diggory-1", "UDP", 53, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-hufflepuff/cedric-diggory-1", "UDP", 5353, false},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-ingress-udp-rules.go", manifest: "base/baseline_tier/standard-ingress-udp-rules.yaml",
		name: "Should support an 'deny-ingress' policy for UDP protocol; ensure rule ordering is respected",
		mutations: []mutation{
			{policy: "default", swap: "Ingress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-hufflepuff/cedric-diggory-1", "UDP", 53, false},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-hufflepuff/cedric-diggory-1", "UDP", 5353, false},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-ingress-udp-rules.go", manifest: "base/baseline_tier/standard-ingress-udp-rules.yaml",
		name: "Should support a 'deny-ingress' policy for UDP protocol at the specified port",
		mutations: []mutation{
			{policy: "default", swap: "Ingress", a: 0, b: 1},
		},
		probes: []conformanceProbe{
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-hufflepuff/cedric-diggory-0", "UDP", 5353, false},
			{"network-policy-conformance-slytherin/draco-malfoy-1", "network-policy-conformance-hufflepuff/cedric-diggory-0", "UDP", 53, true},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-port-range-rules.go", manifest: "base/baseline_tier/standard-port-range-rules-combined.yaml",
		name: "Should support egress port range rules across different protocols",
		probes: []conformanceProbe{
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-ravenclaw/luna-lovegood-0", "TCP", 80, true},
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-ravenclaw/luna-lovegood-0", "TCP", 8080, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-ravenclaw/luna-lovegood-0", "UDP", 53, false},
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-hufflepuff/cedric-diggory-0", "UDP", 53, true},
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-hufflepuff/cedric-diggory-0", "UDP", 5353, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-hufflepuff/cedric-diggory-0", "TCP", 80, false},
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-slytherin/draco-malfoy-0", "SCTP", 9003, true},
			{"network-policy-conformance-gryffindor/harry-potter-0", "network-policy-conformance-slytherin/draco-malfoy-0", "SCTP", 9005, true},
			{"network-policy-conformance-gryffindor/harry-potter-1", "network-policy-conformance-slytherin/draco-malfoy-0", "TCP", 80, false},
		},
	},
	{
		file: "baseline-admin-network-policy-standard-port-range-rules.go", manifest: "base/baseline_tier/standard-port-range-rules-combined.yaml",
		name: "Should support ingress port range rules across different protocols",
		probes: []conformanceProbe{
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 80, true},
			{"network-policy-conformance-ravenclaw/luna-lovegood-0", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 8080, true},
			{"network-policy-conformance-ravenclaw/luna-lovegood-1", "network-policy-conformance-gryffindor/harry-potter-0", "UDP", 53, false},
			{"network-policy-conformance-hufflepuff/cedric-diggory-0", "network-policy-conformance-gryffindor/harry-potter-0", "UDP", 53, true},
			{"network-policy-conformance-hufflepuff/cedric-diggory-0", "network-policy-conformance-gryffindor/harry-potter-0", "UDP", 5353, true},
			{"network-policy-conformance-hufflepuff/cedric-diggory-1", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 80, false},
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-gryffindor/harry-potter-0", "SCTP", 9003, true},
			{"network-policy-conformance-slytherin/draco-malfoy-0", "network-policy-conformance-gryffindor/harry-potter-0", "SCTP", 9005, true},
			{"network-policy-conformance-slytherin/draco-malfoy-1", "network-policy-conformance-gryffindor/harry-potter-0", "TCP", 80, false},
		},
	},
}
