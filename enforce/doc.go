// Package enforce applies compiled rules (package rules) with TC programs
// on the host side of pod interfaces: a packet leaving a pod is decided by
// its egress rules, one entering a pod by its ingress rules, and
// connections are tracked so that replies and later packets pass.
//
// An Enforcer loads the programs once (audit or enforce mode is fixed
// then), attaches them to the interfaces of one network namespace with TCX,
// or with cls_bpf on a clsact qdisc where TCX is missing, and takes rule
// tables with Update: each update is written to the unused half of
// double-buffered maps and switched in with one write, so a packet sees
// either the old tables or the new ones, never a mix. Connections decided
// before an update are decided again on their next packet: kept if still
// allowed, cut (dropped from then on) if not.
//
// Verdicts on new connections, and cuts, come out of Run, attributed to the
// rule that allowed them or the policy that isolates the denying pod.
//
// It needs Linux, CAP_BPF and CAP_NET_ADMIN (CAP_SYS_ADMIN to enter another
// network namespace). Close detaches the programs; with Options.Pin the
// attachments are pinned in bpffs instead and outlive the process, until
// Unpin removes them. Elsewhere New returns ErrNotSupported.
package enforce
