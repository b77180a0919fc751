package hubble_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/cilium/cilium/api/v1/observer"
	"github.com/cilium/cilium/api/v1/relay"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/flowpol/flowpol/baseline/boltdb"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/hubble"
	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/learn"
	"github.com/flowpol/flowpol/resolve"
	"github.com/flowpol/flowpol/topology"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

const (
	frontendPod = "frontend-6c9f8d7b5-h2v9c"
	frontendUID = "5b0f2c3e-0002-4000-8000-000000000002"
	apiPod      = "api-7d4b9c6f8-k4m2p"
	apiUID      = "3c8e1d4a-0002-4000-8000-000000000002"
)

// packet is a Hubble flow as Cilium's types spell it.
type packet struct {
	at       time.Duration
	src, dst string // addr:port
	proto    flow.Proto
	syn, ack bool
	reply    bool
	dir      flowpb.TrafficDirection
	verdict  flowpb.Verdict
	srcPod   string // in shop
	dstPod   string
	dns      *flowpb.DNS // an L7 DNS response
}

func (p packet) flow() *flowpb.Flow {
	src, dst := netip.MustParseAddrPort(p.src), netip.MustParseAddrPort(p.dst)
	f := &flowpb.Flow{
		Time: timestamppb.New(t0.Add(p.at)), NodeName: "node-b", Verdict: p.verdict, TrafficDirection: p.dir,
		IP:      &flowpb.IP{Source: src.Addr().String(), Destination: dst.Addr().String(), IpVersion: flowpb.IPVersion_IPv4},
		Source:  &flowpb.Endpoint{Namespace: "shop", PodName: p.srcPod},
		IsReply: wrapperspb.Bool(p.reply),
		Type:    flowpb.FlowType_L3_L4,
	}
	if p.dstPod != "" {
		f.Destination = &flowpb.Endpoint{Namespace: "shop", PodName: p.dstPod}
	}
	switch p.proto {
	case flow.TCP:
		f.L4 = &flowpb.Layer4{Protocol: &flowpb.Layer4_TCP{TCP: &flowpb.TCP{SourcePort: uint32(src.Port()), DestinationPort: uint32(dst.Port()),
			Flags: &flowpb.TCPFlags{SYN: p.syn, ACK: p.ack}}}}
	case flow.UDP:
		f.L4 = &flowpb.Layer4{Protocol: &flowpb.Layer4_UDP{UDP: &flowpb.UDP{SourcePort: uint32(src.Port()), DestinationPort: uint32(dst.Port())}}}
	}
	if p.dns != nil {
		f.Type = flowpb.FlowType_L7
		f.L7 = &flowpb.Layer7{Type: flowpb.L7FlowType_RESPONSE, Record: &flowpb.Layer7_Dns{Dns: p.dns}}
	}
	return f
}

// observed is what a cluster running Cilium showed: frontend resolving a
// name and connecting to it, and to api through its Service, with the
// replies, later packets and drops Hubble also reports.
var observed = []packet{
	{at: 0, src: "10.244.1.10:40000", dst: "10.96.0.10:53", proto: flow.UDP, dir: flowpb.TrafficDirection_EGRESS, verdict: flowpb.Verdict_FORWARDED, srcPod: frontendPod},
	{at: 10 * time.Millisecond, src: "10.96.0.10:53", dst: "10.244.1.10:40000", proto: flow.UDP, reply: true, dir: flowpb.TrafficDirection_EGRESS, verdict: flowpb.Verdict_FORWARDED, dstPod: frontendPod},
	{at: 11 * time.Millisecond, src: "10.96.0.10:53", dst: "10.244.1.10:40000", proto: flow.UDP, reply: true, dir: flowpb.TrafficDirection_EGRESS, verdict: flowpb.Verdict_FORWARDED, dstPod: frontendPod,
		dns: &flowpb.DNS{Query: "API.example.com.", Ips: []string{"203.0.113.6", "203.0.113.5"}, Ttl: 60, Qtypes: []string{"A"}, Rrtypes: []string{"A"}}},
	{at: time.Second, src: "10.244.1.10:41000", dst: "203.0.113.5:443", proto: flow.TCP, syn: true, dir: flowpb.TrafficDirection_EGRESS, verdict: flowpb.Verdict_FORWARDED, srcPod: frontendPod},
	{at: time.Second + time.Millisecond, src: "203.0.113.5:443", dst: "10.244.1.10:41000", proto: flow.TCP, syn: true, ack: true, reply: true, dir: flowpb.TrafficDirection_EGRESS, verdict: flowpb.Verdict_FORWARDED, dstPod: frontendPod},
	{at: time.Second + 2*time.Millisecond, src: "10.244.1.10:41000", dst: "203.0.113.5:443", proto: flow.TCP, ack: true, dir: flowpb.TrafficDirection_EGRESS, verdict: flowpb.Verdict_FORWARDED, srcPod: frontendPod},
	{at: 2 * time.Second, src: "10.244.1.10:42000", dst: "10.96.10.20:80", proto: flow.TCP, syn: true, dir: flowpb.TrafficDirection_EGRESS, verdict: flowpb.Verdict_FORWARDED, srcPod: frontendPod},
	{at: 2*time.Second + time.Millisecond, src: "10.244.1.10:42000", dst: "10.244.1.20:8080", proto: flow.TCP, syn: true, dir: flowpb.TrafficDirection_INGRESS, verdict: flowpb.Verdict_FORWARDED, srcPod: frontendPod, dstPod: apiPod},
	{at: 3 * time.Second, src: "10.244.1.10:43000", dst: "10.244.1.20:9999", proto: flow.TCP, syn: true, dir: flowpb.TrafficDirection_INGRESS, verdict: flowpb.Verdict_DROPPED, srcPod: frontendPod, dstPod: apiPod},
}

// equivalent are the flow records that say what observed says.
func equivalent() []flow.Record {
	rec := func(at time.Duration, src, dst string, proto flow.Proto, obs flow.Observer, uid string) flow.Record {
		return flow.Record{Time: t0.Add(at), Node: "node-b", Proto: proto, Src: netip.MustParseAddrPort(src), Dst: netip.MustParseAddrPort(dst), Observer: obs, PodUID: uid, Count: 1}
	}
	dns := rec(11*time.Millisecond, "10.244.1.10:40000", "10.96.0.10:53", flow.UDP, flow.Client, frontendUID)
	dns.Count = 0
	dns.DNS = &flow.DNS{Name: "api.example.com", TTL: 60, Answers: []netip.Addr{netip.MustParseAddr("203.0.113.6"), netip.MustParseAddr("203.0.113.5")}}
	return []flow.Record{
		rec(0, "10.244.1.10:40000", "10.96.0.10:53", flow.UDP, flow.Client, frontendUID),
		dns,
		rec(time.Second, "10.244.1.10:41000", "203.0.113.5:443", flow.TCP, flow.Client, frontendUID),
		rec(2*time.Second, "10.244.1.10:42000", "10.96.10.20:80", flow.TCP, flow.Client, frontendUID),
		rec(2*time.Second+time.Millisecond, "10.244.1.10:42000", "10.244.1.20:8080", flow.TCP, flow.Server, apiUID),
	}
}

// hubbleJSON is observed as `hubble observe -o json` prints it, with a
// node status line between.
func hubbleJSON(t testing.TB) string {
	var b strings.Builder
	for i, p := range observed {
		line, err := protojson.Marshal(&observer.GetFlowsResponse{NodeName: "node-b", Time: timestamppb.New(t0.Add(p.at)),
			ResponseTypes: &observer.GetFlowsResponse_Flow{Flow: p.flow()}})
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
		if i == 2 {
			status, err := protojson.Marshal(&observer.GetFlowsResponse{NodeName: "node-b",
				ResponseTypes: &observer.GetFlowsResponse_NodeStatus{NodeStatus: &relay.NodeStatusEvent{NodeNames: []string{"node-b"}}}})
			if err != nil {
				t.Fatal(err)
			}
			b.Write(status)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func podUIDs(t testing.TB, inv *inventory.Inventory) func(ns, name string) string {
	t.Helper()
	uids := map[[2]string]string{}
	for _, p := range inv.Pods {
		uids[[2]string{p.Namespace, p.Name}] = string(p.UID)
	}
	return func(ns, name string) string { return uids[[2]string{ns, name}] }
}

// Hubble's flows give the records that say the same: one per connection
// or UDP flow from the end that observed it, the DNS proxy's answer, and
// nothing for replies, later packets, drops and node status.
func TestReaderRecords(t *testing.T) {
	inv := loadInventory(t)
	rd := hubble.NewReader(strings.NewReader(hubbleJSON(t)), "hubble.json", hubble.Options{PodUID: podUIDs(t, inv)})
	var got []flow.Record
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, *rec)
	}
	want := equivalent()
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		if !got[i].Equal(&want[i]) {
			t.Errorf("record %d:\n got %+v %+v\nwant %+v %+v", i, got[i], got[i].DNS, want[i], want[i].DNS)
		}
	}
	wantSkipped := map[string]uint64{"reply": 2, "TCP packet other than the first SYN": 1, "verdict DROPPED": 1, "no flow (node status, lost events)": 1}
	if !reflect.DeepEqual(rd.Skipped(), wantSkipped) {
		t.Errorf("skipped %v, want %v", rd.Skipped(), wantSkipped)
	}
}

func loadInventory(t testing.TB) *inventory.Inventory {
	t.Helper()
	inv, err := inventory.LoadFile("../testdata/example/cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// learnInto learns records into a new baseline and returns its window.
func learnInto(t *testing.T, inv *inventory.Inventory, rd learn.Records) *topology.Window {
	t.Helper()
	store, err := boltdb.Open(filepath.Join(t.TempDir(), "b.db"), boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	l, err := learn.New(resolve.New(inv, resolve.Options{}), learn.Options{Bucket: store.Bucket()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := learn.FromReader(context.Background(), rd, l, store, learn.BatchOptions{}); err != nil {
		t.Fatal(err)
	}
	w, err := store.Window(context.Background(), t0.Add(-time.Hour), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// Learning Hubble's flows gives the same baseline as learning the
// equivalent flow records: edges, counts, moments, pods, DNS names and
// the addresses they resolved to.
func TestSameBaselineAsFlowRecords(t *testing.T) {
	inv := loadInventory(t)
	fromHubble := learnInto(t, inv, hubble.NewReader(strings.NewReader(hubbleJSON(t)), "hubble.json", hubble.Options{PodUID: podUIDs(t, inv)}))
	var buf bytes.Buffer
	w := flow.NewWriter(&buf)
	for _, r := range equivalent() {
		if err := w.Write(&r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	fromRecords := learnInto(t, inv, flow.NewReader(&buf, "flows.jsonl"))
	if !reflect.DeepEqual(fromHubble, fromRecords) {
		t.Errorf("baselines differ:\nhubble  %+v\nrecords %+v", fromHubble, fromRecords)
	}
	var named bool
	for _, e := range fromHubble.Edges {
		if e.Dst.Kind == topology.KindExternal {
			named = reflect.DeepEqual(e.Names, []string{"api.example.com"})
		}
	}
	if !named || len(fromHubble.Resolved["api.example.com"]) != 2 || len(fromHubble.Edges) != 3 {
		t.Errorf("window %+v: want 3 edges, the external one named api.example.com, which resolved to 2 addresses", fromHubble)
	}
}

// A line that is no GetFlowsResponse is an error naming the file and line.
func TestReaderErrors(t *testing.T) {
	good := strings.SplitN(hubbleJSON(t), "\n", 2)[0]
	tests := []struct {
		name, line, want string
	}{
		{"not JSON", `{"flow":`, "h.json:2: not a Hubble GetFlowsResponse"},
		{"wrong type", `{"flow":{"time":"2026-11-22T10:00:00Z","node_name":7}}`, "h.json:2: not a Hubble GetFlowsResponse"},
		{"no time", `{"flow":{"verdict":"FORWARDED"}}`, `h.json:2: field "flow.time": missing`},
		{"bad address", strings.Replace(good, `"10.244.1.10"`, `"10.244.1.300"`, 1), `h.json:2: field "flow.IP.source": not an IP address`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd := hubble.NewReader(strings.NewReader(good+"\n"+tt.line+"\n"), "h.json", hubble.Options{})
			if _, err := rd.Next(); err != nil {
				t.Fatal(err)
			}
			_, err := rd.Next()
			var le *flow.LineError
			if !errors.As(err, &le) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want a line error with %q", err, tt.want)
			}
		})
	}
}
