//go:build linux

package enforce

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// attachments are the programs' attachments to interfaces.
type attachments struct {
	how    string
	ifaces []string
	links  []link.Link          // TCX
	tc     []*netlink.BpfFilter // cls_bpf
	handle *netlink.Handle
	stale  []link.Link // earlier pins, detached once the new ones are in
}

// attach attaches the programs to the chosen interfaces of the namespace:
// fromPod where packets leave pods (the host side's ingress), toPod where
// they enter them (its egress).
func attach(opts *Options, fromPod, toPod *ebpf.Program) (*attachments, error) {
	a := &attachments{}
	err := inNetns(opts.Netns, func(h *netlink.Handle) error {
		a.handle = h
		ifaces, err := interfaces(h, opts.Interfaces)
		if err != nil {
			return err
		}
		if opts.Pin != "" {
			if a.stale, err = replacePins(opts.Pin); err != nil {
				return err
			}
		}
		return a.attachAll(opts, ifaces, fromPod, toPod)
	})
	if err != nil {
		if cerr := a.close(false); cerr != nil {
			err = errors.Join(err, fmt.Errorf("undo: %w", cerr))
		}
		return nil, err
	}
	var errs []error
	for _, l := range a.stale { // replaced: detach the earlier process's programs
		errs = append(errs, l.Close())
	}
	a.stale = nil
	if err := errors.Join(errs...); err != nil {
		return nil, errors.Join(fmt.Errorf("detach the replaced programs: %w", err), a.close(false))
	}
	return a, nil
}

func (a *attachments) attachAll(opts *Options, ifaces []netlink.Link, fromPod, toPod *ebpf.Program) error {
	if opts.Pin != "" && opts.Attach == AttachTC {
		return fmt.Errorf("pinning needs tcx: cls_bpf filters stay attached without it")
	}
	a.how = opts.Attach
	if a.how == AttachAuto {
		a.how = AttachTCX
		if err := a.attachTCX(opts.Pin, ifaces[0], fromPod, toPod); errors.Is(err, ebpf.ErrNotSupported) {
			a.how = AttachTC
		} else if err != nil {
			return err
		} else {
			ifaces = ifaces[1:]
		}
	}
	for _, l := range ifaces {
		var err error
		if a.how == AttachTCX {
			err = a.attachTCX(opts.Pin, l, fromPod, toPod)
		} else {
			err = a.attachTC(l, fromPod, toPod)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (a *attachments) attachTCX(pin string, l netlink.Link, fromPod, toPod *ebpf.Program) error {
	name := l.Attrs().Name
	for _, p := range []struct {
		prog *ebpf.Program
		at   ebpf.AttachType
		dir  string
	}{{fromPod, ebpf.AttachTCXIngress, "ingress"}, {toPod, ebpf.AttachTCXEgress, "egress"}} {
		lk, err := link.AttachTCX(link.TCXOptions{Interface: l.Attrs().Index, Program: p.prog, Attach: p.at})
		if err != nil {
			return fmt.Errorf("attach tcx %s %s: %w", p.dir, name, err)
		}
		a.links = append(a.links, lk)
		if pin != "" {
			if err := lk.Pin(filepath.Join(pin, name+"-"+p.dir)); err != nil {
				return fmt.Errorf("pin %s %s: %w", p.dir, name, err)
			}
		}
	}
	a.ifaces = append(a.ifaces, name)
	return nil
}

func (a *attachments) attachTC(l netlink.Link, fromPod, toPod *ebpf.Program) error {
	name := l.Attrs().Name
	qdisc := &netlink.GenericQdisc{QdiscAttrs: netlink.QdiscAttrs{LinkIndex: l.Attrs().Index, Handle: netlink.MakeHandle(0xffff, 0), Parent: netlink.HANDLE_CLSACT}, QdiscType: "clsact"}
	if err := a.handle.QdiscReplace(qdisc); err != nil {
		return fmt.Errorf("add clsact qdisc to %s: %w", name, err)
	}
	for _, p := range []struct {
		prog   *ebpf.Program
		parent uint32
		dir    string
	}{{fromPod, netlink.HANDLE_MIN_INGRESS, "ingress"}, {toPod, netlink.HANDLE_MIN_EGRESS, "egress"}} {
		f := &netlink.BpfFilter{
			FilterAttrs:  netlink.FilterAttrs{LinkIndex: l.Attrs().Index, Parent: p.parent, Handle: 1, Protocol: unix.ETH_P_ALL, Priority: 1},
			Fd:           p.prog.FD(),
			Name:         "flowpol-" + p.dir,
			DirectAction: true,
		}
		if err := a.handle.FilterReplace(f); err != nil {
			return fmt.Errorf("attach tc %s %s: %w", p.dir, name, err)
		}
		a.tc = append(a.tc, f)
	}
	a.ifaces = append(a.ifaces, name)
	return nil
}

// interfaces are the named interfaces, or every veth.
func interfaces(h *netlink.Handle, names []string) ([]netlink.Link, error) {
	var out []netlink.Link
	if len(names) > 0 {
		for _, n := range names {
			l, err := h.LinkByName(n)
			if err != nil {
				return nil, fmt.Errorf("interface %s: %w", n, err)
			}
			out = append(out, l)
		}
		return out, nil
	}
	all, err := h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	for _, l := range all {
		if l.Type() == "veth" {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no veth interface (name them)", ErrNoInterfaces)
	}
	return out, nil
}

func (a *attachments) describe() []string {
	var out []string
	for _, n := range a.ifaces {
		out = append(out, a.how+" "+n)
	}
	return out
}

// close detaches everything, or with keep leaves pinned links attached.
func (a *attachments) close(keep bool) error {
	var errs []error
	for _, l := range a.links {
		if !keep {
			errs = append(errs, l.Unpin())
		}
		errs = append(errs, l.Close())
	}
	for _, f := range a.tc {
		if !keep {
			errs = append(errs, a.handle.FilterDel(f))
		}
	}
	if a.handle != nil {
		errs = append(errs, a.handle.Close())
	}
	return errors.Join(errs...)
}

// loadPins opens the links pinned in dir by an earlier run (named
// <interface>-ingress and -egress), creating dir when missing.
func loadPins(dir string) ([]link.Link, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pin directory: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("pin directory: %w", err)
	}
	var out []link.Link
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), "-ingress") && !strings.HasSuffix(e.Name(), "-egress") {
			continue
		}
		l, err := link.LoadPinnedLink(filepath.Join(dir, e.Name()), nil)
		if err != nil {
			return nil, fmt.Errorf("earlier pin %s: %w", e.Name(), err)
		}
		out = append(out, l)
	}
	return out, nil
}

// replacePins opens the links pinned in dir and removes their pins, so
// that new ones can take their names; the earlier programs stay attached
// until the links are closed.
func replacePins(dir string) ([]link.Link, error) {
	links, err := loadPins(dir)
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		if err := l.Unpin(); err != nil {
			return nil, fmt.Errorf("replace pin: %w", err)
		}
	}
	return links, nil
}

// Unpin detaches the programs an enforcer pinned in dir.
func Unpin(dir string) error {
	links, err := loadPins(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, l := range links {
		errs = append(errs, l.Unpin(), l.Close())
	}
	return errors.Join(errs...)
}

// inNetns runs fn with a netlink handle in the namespace at path (a name
// is looked up under /var/run/netns), on a thread that has entered it, so
// that interface indexes resolve there.
func inNetns(path string, fn func(*netlink.Handle) error) error {
	if path == "" {
		h, err := netlink.NewHandle()
		if err != nil {
			return fmt.Errorf("netlink: %w", err)
		}
		return fn(h)
	}
	if !strings.Contains(path, "/") {
		path = filepath.Join("/var/run/netns", path)
	}
	target, err := netns.GetFromPath(path)
	if err != nil {
		return fmt.Errorf("network namespace %s: %w", path, err)
	}
	defer target.Close() //nolint:errcheck // a namespace handle opened to read: closing it loses nothing
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("current network namespace: %w", err)
	}
	defer orig.Close() //nolint:errcheck // as target
	if err := netns.Set(target); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter %s: %w", path, err)
	}
	defer func() {
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread() // else the thread ends with the goroutine
		}
	}()
	h, err := netlink.NewHandleAt(target)
	if err != nil {
		return fmt.Errorf("netlink in %s: %w", path, err)
	}
	return fn(h)
}
