package enforce

import "log/slog"

// Attach modes: how the programs are attached.
const (
	AttachAuto = "auto" // TCX, or cls_bpf where the kernel has no TCX
	AttachTCX  = "tcx"
	AttachTC   = "tc" // cls_bpf on a clsact qdisc
)

// Options configure an Enforcer. Zero values are documented per field.
type Options struct {
	// Audit passes every packet and reports what enforcement would drop.
	Audit bool
	// Netns is the path of the network namespace whose interfaces are
	// attached to (e.g. /var/run/netns/NAME); empty means this process's.
	Netns string
	// Interfaces are the interfaces to attach to; none means every veth
	// in the namespace (the host side of pods' interfaces, for the CNIs
	// that use veths).
	Interfaces []string
	// Attach is AttachAuto (the zero value), AttachTCX or AttachTC.
	Attach string
	// Pin, when set, is a directory on a bpffs where the attachments are
	// pinned, so that they outlive the process; previous pins there are
	// replaced.
	Pin string
	// ConntrackSize is the number of tracked connections; zero means
	// 262,144, the compiled-in size.
	ConntrackSize uint32
	// Logger gets what was attached where; nil means slog.Default().
	Logger *slog.Logger
}

func (o *Options) setDefaults() {
	if o.Attach == "" {
		o.Attach = AttachAuto
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}
