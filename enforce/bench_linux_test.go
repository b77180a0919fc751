//go:build linux && (386 || amd64 || arm64)

package enforce

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/flowpol/flowpol/internal/testpods"
	"github.com/flowpol/flowpol/rules"
)

// benchSetup is one way of guarding the server: nothing, the enforcer, or
// iptables, with a number of rules.
type benchSetup struct {
	name  string
	rules int
}

// BenchmarkEnforce measures, side by side in one run, TCP throughput (one
// connection, 3 s) and short connections per second (wrk against nginx,
// a connection per request, 3 s) from a client pod to a server pod with
// no program, with a program that only returns (empty), with the enforcer
// holding 10, 1,000 and 10,000 rules and its verdicts read as the agent
// reads them, and with the same policy as iptables rules in the server's
// namespace (conntrack first, then one rule per peer, the client's last,
// as a rule list has no better order to offer). It prints a table of the
// figures and their ratio to no program (the mean of three runs spread
// through the benchmark), and the programs' mean cost per packet from the
// kernel's run-time statistics, which the machine's other load does not
// blur: over both phases, and for each alone (wrk: a new connection every
// 20 or so packets; stream: one connection's packets). The empty program's
// is what the statistics and the hook cost of their own, and the
// enforcer's less it is reported as ns/packet-net.
func BenchmarkEnforce(b *testing.B) {
	testpods.RequireRoot(b)
	if _, err := exec.LookPath("iptables-restore"); err != nil {
		b.Fatal("the comparison with iptables needs iptables-restore: apt-get install iptables (make bench installs it as root)")
	}
	cl := testpods.New(b, cgroupRoot)
	server := cl.AddPod("server", testpods.NewUID(), netip.MustParsePrefix("10.199.12.2/24"))
	server.StartServer(b, "tcp-serve", "10.199.12.2:8080")
	testpods.RequireHTTPTools(b)
	server.StartNginx(b, "10.199.12.2:8081")
	// No program is measured before, between and after the others, and
	// the ratios are to the mean of those runs: the machine drifts.
	setups := []benchSetup{{"none", 0}}
	setups = append(setups, benchSetup{"empty", 0})
	for _, kind := range []string{"enforcer", "iptables"} {
		for _, n := range []int{10, 1000, 10000} {
			setups = append(setups, benchSetup{kind, n})
		}
		setups = append(setups, benchSetup{"none", 0})
	}
	stats, err := ebpf.EnableStats(unix.BPF_STATS_RUN_TIME)
	if err != nil {
		b.Fatalf("enable program run-time statistics: %v", err)
	}
	defer stats.Close()
	type figures struct {
		gbps, cps float64
		// nsPerRun is the programs' mean run time over both phases, wrk
		// and stream over each phase alone.
		nsPerRun, wrk, stream float64
	}
	results := make([]figures, len(setups))
	clients := 0
	for b.Loop() {
		for i, s := range setups {
			clients++
			client := cl.AddPod("client"+strconv.Itoa(clients), testpods.NewUID(), netip.MustParsePrefix(fmt.Sprintf("10.199.12.%d/24", 10+clients)))
			cost, teardown := guard(b, s, cl, server, client)
			results[i].cps = client.RunWrk(b, "http://10.199.12.2:8081/", 3*time.Second)
			afterWrk := cost()
			results[i].gbps = float64(atoi(b, client.RunClientOutput(b, "tcp-stream", "10.199.12.2:8080", "3s"))) * 8 / 1e9
			all := cost()
			results[i].nsPerRun, results[i].wrk = all.perRun(), afterWrk.perRun()
			results[i].stream = all.since(afterWrk).perRun()
			teardown()
			client.Delete()
		}
	}
	var base figures
	nones := 0.0
	for i, s := range setups {
		if s.name == "none" {
			base.gbps += results[i].gbps
			base.cps += results[i].cps
			nones++
		}
	}
	base.gbps, base.cps = base.gbps/nones, base.cps/nones
	var floor float64 // the empty program's cost per packet
	for i, s := range setups {
		if s.name == "empty" {
			floor = results[i].nsPerRun
		}
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "guard\trules\tGbit/s\tratio\tconn/s\tratio\tns/packet\twrk\tstream\t")
	for i, s := range setups {
		r := results[i]
		cost := "-\t-\t-"
		if r.nsPerRun > 0 {
			cost = fmt.Sprintf("%.0f\t%.0f\t%.0f", r.nsPerRun, r.wrk, r.stream)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.3f\t%.0f\t%.3f\t%s\t\n", s.name, s.rules, r.gbps, r.gbps/base.gbps, r.cps, r.cps/base.cps, cost)
		switch s.name {
		case "empty":
			b.ReportMetric(r.nsPerRun, "ns/packet-empty")
			b.ReportMetric(r.wrk, "ns/packet-wrk-empty")
			b.ReportMetric(r.stream, "ns/packet-stream-empty")
		case "enforcer":
			b.ReportMetric(r.nsPerRun, fmt.Sprintf("ns/packet-%s-%d", s.name, s.rules))
			b.ReportMetric(r.nsPerRun-floor, fmt.Sprintf("ns/packet-net-%s-%d", s.name, s.rules))
			b.ReportMetric(r.wrk, fmt.Sprintf("ns/packet-wrk-%s-%d", s.name, s.rules))
			b.ReportMetric(r.stream, fmt.Sprintf("ns/packet-stream-%s-%d", s.name, s.rules))
		}
		if s.name != "none" {
			b.ReportMetric(r.cps/base.cps, fmt.Sprintf("conn-ratio-%s-%d", s.name, s.rules))
			b.ReportMetric(r.gbps/base.gbps, fmt.Sprintf("tput-ratio-%s-%d", s.name, s.rules))
		}
	}
	tw.Flush()
}

func atoi(tb testing.TB, s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// guard puts a setup in place and returns its programs' run time so far
// (the kernel's run-time statistics; none without programs), and how to
// remove it.
func guard(b *testing.B, s benchSetup, cl *testpods.Cluster, server, client *testpods.Pod) (func() runTime, func()) {
	clientIP := strings.Split(client.Addrs[0].String(), "/")[0]
	none := func() runTime { return runTime{} }
	switch s.name {
	case "enforcer":
		e, err := New(Options{Netns: cl.Node(), Interfaces: []string{server.HostIface}})
		if err != nil {
			b.Fatal(err)
		}
		if err := e.Update(benchTables(b, s.rules, clientIP)); err != nil {
			b.Fatal(err)
		}
		// Verdicts are read, as the agent reads them.
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx, func(Verdict) {}) }()
		return func() runTime { return programsRunTime(b, e.objs.FromPod, e.objs.ToPod) }, func() {
			cancel()
			if err := <-done; err != nil {
				b.Error(err)
			}
			if err := e.Close(); err != nil {
				b.Error(err)
			}
		}
	case "empty":
		prog := emptyProgram(b)
		a, err := attach(&Options{Netns: cl.Node(), Interfaces: []string{server.HostIface}}, prog, prog)
		if err != nil {
			b.Fatal(err)
		}
		return func() runTime { return programsRunTime(b, prog) }, func() {
			if err := a.close(false); err != nil {
				b.Error(err)
			}
		}
	case "iptables":
		iptablesRestore(b, server, benchIptables(s.rules, clientIP))
		return none, func() { iptablesRestore(b, server, "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n") }
	}
	return none, func() {}
}

// runTime is programs' total run time and number of runs.
type runTime struct {
	total time.Duration
	runs  uint64
}

// perRun is the mean run time in ns, 0 without runs.
func (r runTime) perRun() float64 {
	if r.runs == 0 {
		return 0
	}
	return float64(r.total.Nanoseconds()) / float64(r.runs)
}

// since is the run time between an earlier figure and r.
func (r runTime) since(earlier runTime) runTime {
	return runTime{r.total - earlier.total, r.runs - earlier.runs}
}

// programsRunTime is the programs' run time so far.
func programsRunTime(b *testing.B, progs ...*ebpf.Program) runTime {
	var r runTime
	for _, p := range progs {
		st, err := p.Stats()
		if err != nil {
			b.Fatal(err)
		}
		r.total += st.Runtime
		r.runs += st.RunCount
	}
	return r
}

// benchTables is a policy on the server with n ingress rules on 8080 and
// 8081: from n-1 outside addresses, and from the client.
func benchTables(b testing.TB, n int, clientIP string) *rules.Tables {
	stream, http := intstr.FromInt32(8080), intstr.FromInt32(8081)
	ports := []networkingv1.NetworkPolicyPort{{Port: &stream}, {Port: &http}}
	var ingress []networkingv1.NetworkPolicyIngressRule
	for i := range n - 1 {
		ingress = append(ingress, networkingv1.NetworkPolicyIngressRule{Ports: ports, From: []networkingv1.NetworkPolicyPeer{
			{IPBlock: &networkingv1.IPBlock{CIDR: benchPeer(i) + "/32"}}}})
	}
	ingress = append(ingress, networkingv1.NetworkPolicyIngressRule{Ports: ports, From: []networkingv1.NetworkPolicyPeer{
		{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "client"}}}}})
	set, err := rules.Compile([]networkingv1.NetworkPolicy{{
		ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: "server"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "server"}},
			Ingress:     ingress,
		},
	}})
	if err != nil {
		b.Fatal(err)
	}
	pods := []rules.Pod{
		{Namespace: "bench", Name: "server", Labels: map[string]string{"app": "server"}, IPs: []netip.Addr{netip.MustParseAddr("10.199.12.2")}},
		{Namespace: "bench", Name: "client", Labels: map[string]string{"app": "client"}, IPs: []netip.Addr{netip.MustParseAddr(clientIP)}},
	}
	t, err := rules.Resolve(set, pods, nil)
	if err != nil {
		b.Fatal(err)
	}
	return t
}

// benchPeer is the i-th outside address, in 172.16.0.0/12.
func benchPeer(i int) string { return fmt.Sprintf("172.16.%d.%d", i/250, 1+i%250) }

// benchIptables is the same policy as iptables-restore input.
func benchIptables(n int, clientIP string) string {
	var sb strings.Builder
	sb.WriteString("*filter\n:INPUT ACCEPT [0:0]\n:FLOWPOL - [0:0]\n")
	sb.WriteString("-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n-A INPUT -p tcp -j FLOWPOL\n")
	for i := range n - 1 {
		fmt.Fprintf(&sb, "-A FLOWPOL -s %s/32 -p tcp -m multiport --dports 8080,8081 -j ACCEPT\n", benchPeer(i))
	}
	fmt.Fprintf(&sb, "-A FLOWPOL -s %s/32 -p tcp -m multiport --dports 8080,8081 -j ACCEPT\n-A FLOWPOL -j DROP\nCOMMIT\n", clientIP)
	return sb.String()
}

func iptablesRestore(b *testing.B, p *testpods.Pod, rules string) {
	cmd := exec.Command("ip", "netns", "exec", p.Netns, "iptables-restore")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("iptables-restore: %v\n%s", err, out)
	}
}
