//go:build linux && (386 || amd64 || arm64)

package collector_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowpol/flowpol/collector"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/internal/testpods"
)

func TestMain(m *testing.M) {
	testpods.MaybeRunHelper()
	os.Exit(m.Run())
}

// capture runs a collector until stop is called, keeping the records of
// the test's own addresses.
type capture struct {
	mu   sync.Mutex
	recs []flow.Record
	stop func() error
	c    *collector.Collector
}

func startCapture(t *testing.T, keep netip.Prefix, keep6 netip.Prefix) *capture {
	t.Helper()
	c, err := collector.New(collector.Options{Node: "node-test", FlushInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	cp := &capture{c: c}
	done := make(chan error, 1)
	go func() {
		done <- c.Run(ctx, func(r *flow.Record) error {
			if keep.Contains(r.Src.Addr()) || keep6.Contains(r.Src.Addr()) {
				cp.mu.Lock()
				cp.recs = append(cp.recs, *r)
				cp.mu.Unlock()
			}
			return nil
		})
	}()
	cp.stop = func() error { cancel(); return <-done }
	return cp
}

// flowKey is what the test compares of a record; Count is summed.
type flowKey struct {
	Src, Dst string // "addr" and "addr:port"
	Proto    string
	Observer string
	PodUID   string
}

func (c *capture) summary() map[flowKey]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[flowKey]uint64{}
	for _, r := range c.recs {
		k := flowKey{r.Src.Addr().String(), r.Dst.String(), r.Proto.String(), r.Observer.String(), r.PodUID}
		out[k] += r.Count
	}
	return out
}

func TestCaptureAttributesFlowsToPods(t *testing.T) {
	testpods.RequireRoot(t)
	net4 := netip.MustParsePrefix("10.199.7.0/24")
	net6 := netip.MustParsePrefix("fd99:7::/64")
	cl := testpods.New(t, "/sys/fs/cgroup/unified")
	a := cl.AddPod("a", testpods.NewUID(), netip.MustParsePrefix("10.199.7.1/24"), netip.MustParsePrefix("fd99:7::1/64"))
	b := cl.AddPod("b", testpods.NewUID(), netip.MustParsePrefix("10.199.7.2/24"), netip.MustParsePrefix("fd99:7::2/64"))
	cp := startCapture(t, net4, net6)
	t.Logf("attached: %v", cp.c.Attached())

	b.StartServer(t, "tcp-serve", "10.199.7.2:8080")
	b.StartServer(t, "tcp-serve", "[fd99:7::2]:8080")
	b.StartServer(t, "udp-serve", "10.199.7.2:53")
	a.RunClient(t, "tcp-connect", "10.199.7.2:8080", "1000")
	a.RunClient(t, "tcp-connect", "[fd99:7::2]:8080", "1")
	a.RunClient(t, "tcp-refused", "10.199.7.2:9999")
	a.RunClient(t, "udp-query", "10.199.7.2:53")
	want := map[flowKey]uint64{
		{"10.199.7.1", "10.199.7.2:8080", "TCP", "client", a.UID}: 1000,
		{"10.199.7.1", "10.199.7.2:8080", "TCP", "server", b.UID}: 1000,
		{"fd99:7::1", "[fd99:7::2]:8080", "TCP", "client", a.UID}: 1,
		{"fd99:7::1", "[fd99:7::2]:8080", "TCP", "server", b.UID}: 1,
		{"10.199.7.1", "10.199.7.2:53", "UDP", "client", a.UID}:   1,
		{"10.199.7.1", "10.199.7.2:53", "UDP", "server", b.UID}:   1,
	}
	cp.waitFor(t, want) // a flush reports a's repeats while its cgroup exists

	// Pod a goes; pod c, of another workload, gets its address.
	a.Delete()
	c := cl.AddPod("c", testpods.NewUID(), netip.MustParsePrefix("10.199.7.1/24"))
	c.RunClient(t, "tcp-connect", "10.199.7.2:8080", "1")
	want[flowKey{"10.199.7.1", "10.199.7.2:8080", "TCP", "client", c.UID}] = 1
	want[flowKey{"10.199.7.1", "10.199.7.2:8080", "TCP", "server", b.UID}] = 1001 // the server cannot tell a from c
	cp.waitFor(t, want)
	if err := cp.stop(); err != nil {
		t.Fatal(err)
	}
	got := cp.summary()
	if diff := diffCounts(got, want); diff != "" {
		t.Errorf("captured flows differ (-missing +unexpected):\n%s", diff)
	}
	checkRecordDetails(t, cp, a, b)
	st, err := cp.c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Lost != 0 || st.Recycled != 0 {
		t.Errorf("stats %+v: events were lost", st)
	}
}

// waitFor waits until the counts of want's flows are what want says,
// polling, for at most 10 s (many flushes): less fails the test, and the
// caller compares the rest.
func (c *capture) waitFor(t *testing.T, want map[flowKey]uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := c.summary()
		missing := false
		for k, n := range want {
			missing = missing || got[k] < n
		}
		if !missing {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("flows not reported within 10s (-missing +unexpected):\n%s", diffCounts(got, want))
		}
		time.Sleep(20 * time.Millisecond) // the poll interval, a tenth of a flush
	}
}

// checkRecordDetails checks what a record carries besides its key: the
// node, the container, the network namespace, the process, and a client
// port on the first record of a flow.
func checkRecordDetails(t *testing.T, cp *capture, a, b *testpods.Pod) {
	t.Helper()
	cp.mu.Lock()
	defer cp.mu.Unlock()
	var sawComm bool
	for _, r := range cp.recs {
		if r.Node != "node-test" || r.CgroupID == 0 || r.Netns == 0 {
			t.Errorf("record %+v lacks node, cgroup or netns", r)
		}
		if r.PodUID == a.UID && r.ContainerID != a.ContainerID || r.PodUID == b.UID && r.ContainerID != b.ContainerID {
			t.Errorf("record %+v has the wrong container", r)
		}
		if r.Observer == flow.Client && r.Comm == "collector.test" {
			sawComm = true
		}
	}
	if !sawComm {
		t.Errorf("no client record names its process")
	}
}

func diffCounts(got, want map[flowKey]uint64) string {
	var lines []string
	for k, n := range want {
		if got[k] != n {
			lines = append(lines, fmt.Sprintf("- %+v count %d (got %d)", k, n, got[k]))
		}
	}
	for k, n := range got {
		if _, ok := want[k]; !ok {
			lines = append(lines, fmt.Sprintf("+ %+v count %d", k, n))
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
