package hubble

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	flowpb "github.com/cilium/cilium/api/v1/flow"
	"github.com/cilium/cilium/api/v1/observer"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/flowpol/flowpol/flow"
)

// Options tunes NewReader. The zero value is ready to use.
type Options struct {
	// PodUID gives the uid of a pod by namespace and name, for attribution
	// by pod rather than by address; nil, or an empty result, leaves the
	// record to be placed by its address.
	PodUID func(namespace, name string) string
}

// Reader reads Hubble flows as flow records.
type Reader struct {
	opts    Options
	name    string
	sc      *bufio.Scanner
	line    int
	rec     flow.Record
	skipped map[string]uint64
}

// NewReader reads r; name (a file name, or "-") is used in errors.
func NewReader(r io.Reader, name string, opts Options) *Reader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), flow.MaxLineBytes)
	return &Reader{opts: opts, name: name, sc: sc, skipped: map[string]uint64{}}
}

// Line returns the line of the record Next returned last.
func (r *Reader) Line() int { return r.line }

// Skipped counts the lines read that gave no record, by reason.
func (r *Reader) Skipped() map[string]uint64 { return r.skipped }

// Next returns the next record, or io.EOF after the last. A line that is
// not a GetFlowsResponse gives a *flow.LineError.
func (r *Reader) Next() (*flow.Record, error) {
	unmarshal := protojson.UnmarshalOptions{DiscardUnknown: true}
	for r.sc.Scan() {
		r.line++
		b := r.sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var resp observer.GetFlowsResponse
		if err := unmarshal.Unmarshal(b, &resp); err != nil {
			return nil, &flow.LineError{File: r.name, Line: r.line, Err: fmt.Errorf("%w: %w", ErrNotFlow, err)}
		}
		f := resp.GetFlow()
		if f == nil {
			r.skipped["no flow (node status, lost events)"]++
			continue
		}
		why, err := r.convert(f)
		if err != nil {
			return nil, &flow.LineError{File: r.name, Line: r.line, Err: err}
		}
		if why != "" {
			r.skipped[why]++
			continue
		}
		return &r.rec, nil
	}
	if err := r.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &flow.LineError{File: r.name, Line: r.line + 1, Err: fmt.Errorf("line longer than %d bytes", flow.MaxLineBytes)}
		}
		return nil, fmt.Errorf("read %s: %w", r.name, err)
	}
	return nil, io.EOF
}

// convert turns a flow into r.rec, or says why it gives no record; an
// error is a flow that claims to be one but cannot be read.
func (r *Reader) convert(f *flowpb.Flow) (string, error) {
	r.rec = flow.Record{Node: f.GetNodeName(), Count: 1}
	if !f.GetTime().IsValid() {
		return "", errors.New("field \"flow.time\": missing or invalid")
	}
	r.rec.Time = f.GetTime().AsTime().UTC()
	if !flow.InRange(r.rec.Time) {
		return "", fmt.Errorf("field \"flow.time\": %w", flow.ErrTimeRange)
	}
	if f.GetL7() != nil {
		return r.dnsAnswer(f)
	}
	switch f.GetVerdict() {
	case flowpb.Verdict_FORWARDED, flowpb.Verdict_AUDIT, flowpb.Verdict_REDIRECTED:
	default:
		return "verdict " + f.GetVerdict().String(), nil
	}
	if f.GetIsReply().GetValue() {
		return "reply", nil
	}
	switch f.GetTrafficDirection() {
	case flowpb.TrafficDirection_EGRESS:
		r.rec.Observer = flow.Client
	case flowpb.TrafficDirection_INGRESS:
		r.rec.Observer = flow.Server
	default:
		return "traffic direction unknown", nil
	}
	if why := r.layer4(f.GetL4()); why != "" {
		return why, nil
	}
	if err := r.addrs(f.GetIP(), false); err != nil {
		return "", err
	}
	ep := f.GetSource()
	if r.rec.Observer == flow.Server {
		ep = f.GetDestination()
	}
	r.attribute(ep)
	return "", nil
}

// layer4 reads the protocol and ports: a TCP SYN without ACK, or a UDP or
// SCTP packet.
func (r *Reader) layer4(l4 *flowpb.Layer4) string {
	var sport, dport uint32
	switch {
	case l4.GetTCP() != nil:
		t := l4.GetTCP()
		if !t.GetFlags().GetSYN() || t.GetFlags().GetACK() {
			return "TCP packet other than the first SYN"
		}
		r.rec.Proto, sport, dport = flow.TCP, t.GetSourcePort(), t.GetDestinationPort()
	case l4.GetUDP() != nil:
		r.rec.Proto, sport, dport = flow.UDP, l4.GetUDP().GetSourcePort(), l4.GetUDP().GetDestinationPort()
	case l4.GetSCTP() != nil:
		r.rec.Proto, sport, dport = flow.SCTP, l4.GetSCTP().GetSourcePort(), l4.GetSCTP().GetDestinationPort()
	default:
		return "no TCP, UDP or SCTP"
	}
	if dport == 0 || dport > 65535 || sport > 65535 {
		return "port out of range"
	}
	r.rec.Src = netip.AddrPortFrom(netip.Addr{}, uint16(sport))
	r.rec.Dst = netip.AddrPortFrom(netip.Addr{}, uint16(dport))
	return ""
}

// addrs fills in the addresses, swapped for a response (server to client).
func (r *Reader) addrs(ip *flowpb.IP, swap bool) error {
	src, err := parseAddr("flow.IP.source", ip.GetSource())
	if err != nil {
		return err
	}
	dst, err := parseAddr("flow.IP.destination", ip.GetDestination())
	if err != nil {
		return err
	}
	if swap {
		src, dst = dst, src
	}
	r.rec.Src = netip.AddrPortFrom(src, r.rec.Src.Port())
	r.rec.Dst = netip.AddrPortFrom(dst, r.rec.Dst.Port())
	r.rec.Normalize()
	return nil
}

func parseAddr(field, s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("field %q: not an IP address: %q", field, s)
	}
	return a, nil
}

func (r *Reader) attribute(ep *flowpb.Endpoint) {
	if r.opts.PodUID != nil && ep.GetPodName() != "" {
		r.rec.PodUID = r.opts.PodUID(ep.GetNamespace(), ep.GetPodName())
	}
}

// dnsAnswer reads a DNS response of Cilium's DNS proxy into a record of
// count 0 from the client to the server's port.
func (r *Reader) dnsAnswer(f *flowpb.Flow) (string, error) {
	l7 := f.GetL7()
	d := l7.GetDns()
	switch {
	case d == nil:
		return "L7 record other than DNS", nil
	case l7.GetType() != flowpb.L7FlowType_RESPONSE:
		return "DNS request", nil
	case d.GetRcode() != 0:
		return "DNS error response", nil
	}
	udp, tcp := f.GetL4().GetUDP(), f.GetL4().GetTCP()
	sport, dport := udp.GetSourcePort(), udp.GetDestinationPort()
	r.rec.Proto = flow.UDP
	if tcp != nil {
		sport, dport, r.rec.Proto = tcp.GetSourcePort(), tcp.GetDestinationPort(), flow.TCP
	} else if udp == nil {
		return "DNS response without UDP or TCP", nil
	}
	if sport == 0 || sport > 65535 || dport > 65535 {
		return "port out of range", nil
	}
	// A response goes server → client: the record is the client's flow.
	r.rec.Src = netip.AddrPortFrom(netip.Addr{}, uint16(dport))
	r.rec.Dst = netip.AddrPortFrom(netip.Addr{}, uint16(sport))
	if err := r.addrs(f.GetIP(), true); err != nil {
		return "", err
	}
	ans := &flow.DNS{Name: strings.ToLower(strings.TrimSuffix(d.GetQuery(), ".")), TTL: d.GetTtl()}
	for _, s := range d.GetIps() {
		a, err := parseAddr("flow.l7.dns.ips", s)
		if err != nil {
			return "", err
		}
		if len(ans.Answers) < flow.MaxAnswers {
			ans.Answers = append(ans.Answers, a.Unmap())
		}
	}
	if ans.Name == "" || len(ans.Name) > flow.MaxNameBytes || len(ans.Answers) == 0 {
		return "DNS response without a name or addresses", nil
	}
	r.rec.Observer, r.rec.Count, r.rec.DNS = flow.Client, 0, ans
	r.attribute(f.GetDestination())
	return "", nil
}
