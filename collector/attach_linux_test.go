//go:build linux && (386 || amd64 || arm64)

package collector_test

import (
	"context"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flowpol/flowpol/collector"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/internal/testpods"
)

// mountTracefs mounts tracefs for the classic tracepoint and kprobes, when
// it is not, until the test ends.
func mountTracefs(t *testing.T) {
	t.Helper()
	const dir = "/sys/kernel/tracing"
	if _, err := os.Stat(dir + "/events"); err == nil {
		return
	}
	if err := syscall.Mount("nodev", dir, "tracefs", 0, ""); err != nil {
		t.Logf("mount tracefs: %v", err)
		return
	}
	t.Cleanup(func() { syscall.Unmount(dir, 0) })
}

// Every TCP attach point loads, and where the kernel lets it attach, sees
// both ends of a connection; the default takes the first that works.
func TestTCPAttachPoints(t *testing.T) {
	testpods.RequireRoot(t)
	mountTracefs(t)
	def, err := collector.New(collector.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := def.Attached()[0]; got != "tcp: tp_btf/inet_sock_set_state" {
		t.Errorf("default attach point %q, want tp_btf on this kernel", got)
	}
	def.Close()
	for _, at := range []string{"tp_btf/inet_sock_set_state", "tracepoint/sock/inet_sock_set_state", "kprobe/tcp_v4_connect,tcp_v6_connect,tcp_finish_connect,kretprobe/inet_csk_accept"} {
		t.Run(at, func(t *testing.T) {
			c, err := collector.New(collector.Options{TCPAttach: at, KeepLoopback: true, FlushInterval: 100 * time.Millisecond})
			if err != nil {
				// A kernel without kprobes refuses to attach them; the
				// programs must still have passed the verifier.
				if !strings.Contains(err.Error(), "attach: ") {
					t.Fatalf("load: %v", err)
				}
				t.Logf("not attachable on this kernel: %v", err)
				return
			}
			defer c.Close()
			checkSeesLoopbackConnection(t, c)
		})
	}
}

// checkSeesLoopbackConnection makes three connections on 127.0.0.1 and
// expects a client and a server record of them.
func checkSeesLoopbackConnection(t *testing.T, c *collector.Collector) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			cc, err := l.Accept()
			if err != nil {
				return
			}
			cc.Close()
		}
	}()
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	counts := map[flow.Observer]uint64{}
	seen := make(chan struct{}) // closed when both ends have seen all three
	done := make(chan error, 1)
	go func() {
		done <- c.Run(ctx, func(r *flow.Record) error {
			if r.Dst.Port() == port && r.Dst.Addr().String() == "127.0.0.1" {
				mu.Lock()
				counts[r.Observer] += r.Count
				if counts[flow.Client] == 3 && counts[flow.Server] == 3 {
					close(seen)
				}
				mu.Unlock()
			}
			return nil
		})
	}()
	for range 3 {
		cc, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		cc.Close()
	}
	select {
	case <-seen:
	case <-time.After(10 * time.Second): // many flushes
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if counts[flow.Client] != 3 || counts[flow.Server] != 3 {
		t.Errorf("saw %d client and %d server connections, want 3 and 3", counts[flow.Client], counts[flow.Server])
	}
}
