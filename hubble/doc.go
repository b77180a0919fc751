// Package hubble reads the flows of Cilium's Hubble, as `hubble observe -o
// json` prints them (one observer.GetFlowsResponse a line, in protojson),
// and gives them as flow records, with Cilium's own types.
//
// A TCP SYN (without ACK) and a UDP packet that is no reply become a
// record from the end that observed it: traffic direction egress is the
// client's, ingress the server's. Replies (is_reply), other TCP packets,
// dropped flows and responses that are no flow (node status, lost events)
// are skipped and counted. A DNS response seen by Cilium's DNS proxy (an
// L7 record) becomes a record of count 0 that carries the answer, from the
// client to the server's port. The pod names and namespaces Hubble gives
// are turned into pod uids through Options.PodUID, where given.
//
// It needs nothing but its input; a Reader is not safe for concurrent use,
// and the record Next returns is valid until the next call.
package hubble
