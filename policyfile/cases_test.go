package policyfile

// policyCase is a NetworkPolicy document and the field the API server
// refuses in it, or "" when it accepts it.
type policyCase struct {
	name    string
	doc     string
	invalid string
}

// policy is a NetworkPolicy in namespace shop with the given spec (YAML,
// indented two spaces).
func policy(name, spec string) string {
	return "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: " + name + "\n  namespace: shop\nspec:\n" + spec
}

// policyCases are shared by the validator's table test and the test that
// asks a real API server about the same policies.
var policyCases = []policyCase{
	{"deny all", policy("deny-all", "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n"), ""},
	{"every field valid", policy("full", `  podSelector:
    matchLabels: {app: api, app.kubernetes.io/part-of: shop}
    matchExpressions:
    - {key: tier, operator: In, values: [web, api]}
    - {key: canary, operator: DoesNotExist}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - podSelector: {matchLabels: {app: web}}
      namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}
    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16, 10.2.3.4/32]}
    - ipBlock: {cidr: "2001:db8::/32", except: ["2001:db8:1::/48"]}
    ports:
    - {protocol: TCP, port: 8080}
    - {protocol: UDP, port: 5000, endPort: 5100}
    - {protocol: SCTP, port: http}
    - {port: 9000, endPort: 9000}
  egress:
  - to: [{namespaceSelector: {}}]
    ports: [{protocol: UDP, port: 53}, {port: dns-tcp}]
  - {}
`), ""},
	{"a single address block", policy("one", "  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 203.0.113.10/32}}]}]\n"), ""},
	{"a bad policy name", policy("Bad_Name", "  podSelector: {}\n"), "metadata.name"},
	{"a bad label on the policy", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: shop, labels: {\"bad key!\": v}}\nspec: {podSelector: {}}\n", "metadata.labels"},
	{"a bad label value in podSelector", policy("x", "  podSelector: {matchLabels: {app: \"-bad-\"}}\n"), "spec.podSelector.matchLabels"},
	{"a bad operator", policy("x", "  podSelector: {matchExpressions: [{key: app, operator: Equals, values: [a]}]}\n"), "spec.podSelector.matchExpressions[0].operator"},
	{"In without values", policy("x", "  podSelector: {matchExpressions: [{key: app, operator: In}]}\n"), "spec.podSelector.matchExpressions[0].values"},
	{"Exists with values", policy("x", "  podSelector: {matchExpressions: [{key: app, operator: Exists, values: [a]}]}\n"), "spec.podSelector.matchExpressions[0].values"},
	{"a bad namespaceSelector key", policy("x", "  podSelector: {}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {\"a/b/c\": x}}}]}]\n"), "spec.ingress[0].from[0].namespaceSelector.matchLabels"},
	{"a lower-case protocol", policy("x", "  podSelector: {}\n  ingress: [{ports: [{protocol: tcp, port: 80}]}]\n"), "spec.ingress[0].ports[0].protocol"},
	{"ICMP", policy("x", "  podSelector: {}\n  egress: [{ports: [{protocol: ICMP}]}]\n"), "spec.egress[0].ports[0].protocol"},
	{"port 0", policy("x", "  podSelector: {}\n  ingress: [{ports: [{port: 0}]}]\n"), "spec.ingress[0].ports[0].port"},
	{"port 65536", policy("x", "  podSelector: {}\n  ingress: [{ports: [{port: 65536}]}]\n"), "spec.ingress[0].ports[0].port"},
	{"a port name with no letter", policy("x", "  podSelector: {}\n  ingress: [{ports: [{port: \"80\"}]}]\n"), "spec.ingress[0].ports[0].port"},
	{"a port name too long", policy("x", "  podSelector: {}\n  ingress: [{ports: [{port: averyveryverylongname}]}]\n"), "spec.ingress[0].ports[0].port"},
	{"a port name with two hyphens", policy("x", "  podSelector: {}\n  ingress: [{ports: [{port: a--b}]}]\n"), "spec.ingress[0].ports[0].port"},
	{"endPort below port", policy("x", "  podSelector: {}\n  ingress: [{ports: [{port: 90, endPort: 80}]}]\n"), "spec.ingress[0].ports[0].endPort"},
	{"endPort above 65535", policy("x", "  podSelector: {}\n  ingress: [{ports: [{port: 90, endPort: 70000}]}]\n"), "spec.ingress[0].ports[0].endPort"},
	{"endPort with a named port", policy("x", "  podSelector: {}\n  egress: [{ports: [{port: http, endPort: 90}]}]\n"), "spec.egress[0].ports[0].endPort"},
	{"endPort without a port", policy("x", "  podSelector: {}\n  egress: [{ports: [{endPort: 90}]}]\n"), "spec.egress[0].ports[0].endPort"},
	{"a peer with nothing", policy("x", "  podSelector: {}\n  ingress: [{from: [{}]}]\n"), "spec.ingress[0].from[0]"},
	{"ipBlock with a podSelector", policy("x", "  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]\n"), "spec.egress[0].to[0]"},
	{"ipBlock without a cidr", policy("x", "  podSelector: {}\n  egress: [{to: [{ipBlock: {except: [10.0.0.0/8]}}]}]\n"), "spec.egress[0].to[0].ipBlock.cidr"},
	{"a cidr that is not one", policy("x", "  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/33}}]}]\n"), "spec.egress[0].to[0].ipBlock.cidr"},
	{"a cidr without a length", policy("x", "  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.1}}]}]\n"), "spec.egress[0].to[0].ipBlock.cidr"},
	{"a cidr with bits beyond its length", policy("x", "  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.1/8}}]}]\n"), "spec.egress[0].to[0].ipBlock.cidr"},
	{"a cidr with leading zeros", policy("x", "  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 010.0.0.0/8}}]}]\n"), "spec.egress[0].to[0].ipBlock.cidr"},
	{"an IPv4-mapped cidr", policy("x", "  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: \"::ffff:10.0.0.0/104\"}}]}]\n"), "spec.egress[0].to[0].ipBlock.cidr"},
	{"an exception outside the cidr", policy("x", "  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.1.0.0/24]}}]}]\n"), "spec.egress[0].to[0].ipBlock.except[0]"},
	{"an exception equal to the cidr", policy("x", "  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.0.0/16]}}]}]\n"), "spec.egress[0].to[0].ipBlock.except[0]"},
	{"an exception wider than the cidr", policy("x", "  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.0.0/8]}}]}]\n"), "spec.egress[0].to[0].ipBlock.except[0]"},
	{"an exception of the other family", policy("x", "  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [\"2001:db8::/64\"]}}]}]\n"), "spec.egress[0].to[0].ipBlock.except[0]"},
	{"an exception that is not a cidr", policy("x", "  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0]}}]}]\n"), "spec.ingress[0].from[0].ipBlock.except[0]"},
	{"an unknown policy type", policy("x", "  podSelector: {}\n  policyTypes: [Ingress, egress]\n"), "spec.policyTypes[1]"},
	{"three policy types", policy("x", "  podSelector: {}\n  policyTypes: [Ingress, Egress, Ingress]\n"), "spec.policyTypes"},
}
