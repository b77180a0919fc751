package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// hubbleFile writes, as `hubble observe -o json` would, frontend's pod
// resolving api.example.com through Cilium's DNS proxy and connecting to
// one of its addresses, and a reply.
func hubbleFile(t testing.TB) string {
	t.Helper()
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	frontend := &flowpb.Endpoint{Namespace: "shop", PodName: "frontend-6c9f8d7b5-h2v9c"}
	flows := []*flowpb.Flow{
		{Time: timestamppb.New(t0), Verdict: flowpb.Verdict_FORWARDED, TrafficDirection: flowpb.TrafficDirection_EGRESS, IsReply: wrapperspb.Bool(true),
			IP: &flowpb.IP{Source: "10.96.0.10", Destination: "10.244.1.10"}, Destination: frontend,
			L4: &flowpb.Layer4{Protocol: &flowpb.Layer4_UDP{UDP: &flowpb.UDP{SourcePort: 53, DestinationPort: 40000}}},
			L7: &flowpb.Layer7{Type: flowpb.L7FlowType_RESPONSE, Record: &flowpb.Layer7_Dns{Dns: &flowpb.DNS{Query: "api.example.com.", Ips: []string{"203.0.113.5", "203.0.113.6"}, Ttl: 30}}}},
		{Time: timestamppb.New(t0.Add(time.Second)), Verdict: flowpb.Verdict_FORWARDED, TrafficDirection: flowpb.TrafficDirection_EGRESS, IsReply: wrapperspb.Bool(false),
			IP: &flowpb.IP{Source: "10.244.1.10", Destination: "203.0.113.5"}, Source: frontend,
			L4: &flowpb.Layer4{Protocol: &flowpb.Layer4_TCP{TCP: &flowpb.TCP{SourcePort: 41000, DestinationPort: 443, Flags: &flowpb.TCPFlags{SYN: true}}}}},
		{Time: timestamppb.New(t0.Add(time.Second)), Verdict: flowpb.Verdict_FORWARDED, TrafficDirection: flowpb.TrafficDirection_EGRESS, IsReply: wrapperspb.Bool(true),
			IP: &flowpb.IP{Source: "203.0.113.5", Destination: "10.244.1.10"}, Destination: frontend,
			L4: &flowpb.Layer4{Protocol: &flowpb.Layer4_TCP{TCP: &flowpb.TCP{SourcePort: 443, DestinationPort: 41000, Flags: &flowpb.TCPFlags{SYN: true, ACK: true}}}}},
	}
	var b strings.Builder
	for _, f := range flows {
		line, err := protojson.Marshal(&observer.GetFlowsResponse{ResponseTypes: &observer.GetFlowsResponse_Flow{Flow: f}})
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	path := filepath.Join(t.TempDir(), "hubble.json")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// learn --input-format hubble reads Hubble's flows: the connection is
// learned with the name its pod resolved, replies are skipped and said
// so; a format that is neither is an error.
func TestLearnHubble(t *testing.T) {
	db := filepath.Join(t.TempDir(), "f.db")
	inv := repoFile("testdata", "example", "cluster.yaml")
	r := mustRun(t, "learn", "--from", hubbleFile(t), "--input-format", "hubble", "--inventory", inv, "--db", db)
	if !strings.Contains(r.out, "learned 2 records (1 connections)") || !strings.Contains(r.err, "hubble: 1 skipped: reply") {
		t.Errorf("learn summary:\n%s%s", r.out, r.err)
	}
	g := mustRun(t, "generate", "--db", db, "--until", "2026-11-22T12:00:00Z")
	for _, want := range []string{"egress to external/203.0.113.5 on 443/TCP: 1 connection,", "2026-11-22T10:00:01Z; DNS names: api.example.com", "cidr: 203.0.113.5/32"} {
		if !strings.Contains(g.out, want) {
			t.Errorf("policies lack %q:\n%s", want, g.out)
		}
	}
	if want := "shop/Deployment/frontend: api.example.com resolved to 2 addresses in the window and 1 of them were connected to"; !strings.Contains(g.err, want) {
		t.Errorf("generate does not warn %q:\n%s", want, g.err)
	}
	if r := run(t, "", "learn", "--from", hubbleFile(t), "--input-format", "pcap", "--inventory", inv, "--db", db); r.code == 0 || !strings.Contains(r.err, `--input-format "pcap": want flow or hubble`) {
		t.Errorf("--input-format pcap: exit %d\n%s", r.code, r.err)
	}
}
