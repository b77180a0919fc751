// Package flow defines the flow record, flowpol's interchange format, and
// reads and writes it as JSON Lines.
//
// A record is one observed connection (TCP, SCTP) or flow (UDP): Src is the
// side that opened it or sent the first datagram, Dst the side that accepted
// or received it, and Observer says which of the two ends' nodes saw it. The
// live collector writes records in this format and `flowpol learn --from`
// reads them. A record may carry a DNS answer its client received on a
// flow to port 53; one that carries only that has count 0. A Reader
// reuses its buffers: a Record returned by Next is valid until the
// following call.
package flow
