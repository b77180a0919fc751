package synth_test

import (
	"bytes"
	"context"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline/boltdb"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/generator"
	"github.com/flowpol/flowpol/internal/synth"
	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/learn"
	"github.com/flowpol/flowpol/resolve"
)

var small = synth.Options{Seed: 7, Workloads: 40, Edges: 150, Namespaces: 4}

func newCluster(t testing.TB, opts synth.Options) *synth.Cluster {
	t.Helper()
	c, err := synth.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func render(t testing.TB, opts synth.Options, records int) (inv, flows []byte) {
	t.Helper()
	c := newCluster(t, opts)
	var ib, fb bytes.Buffer
	if err := c.WriteInventory(&ib); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteFlows(&fb, records); err != nil {
		t.Fatal(err)
	}
	return ib.Bytes(), fb.Bytes()
}

// TestDeterministic fails if the same options can give different output,
// which would make benchmark runs incomparable, or if the seed is ignored.
func TestDeterministic(t *testing.T) {
	inv1, flows1 := render(t, small, 5000)
	inv2, flows2 := render(t, small, 5000)
	if !bytes.Equal(inv1, inv2) || !bytes.Equal(flows1, flows2) {
		t.Fatal("the same options gave different output")
	}
	other := small
	other.Seed++
	_, flows3 := render(t, other, 5000)
	if bytes.Equal(flows1, flows3) {
		t.Fatal("another seed gave the same flows")
	}
}

// TestFlowsParse fails if the records are not what flow.Reader accepts, or
// fall outside the span, or the count is wrong.
func TestFlowsParse(t *testing.T) {
	c := newCluster(t, small)
	recs, err := c.Records(3001)
	if err != nil {
		t.Fatal(err)
	}
	from, to := c.Span()
	n, servers := len(recs), 0
	for i, rec := range recs {
		if rec.Time.Before(from) || !rec.Time.Before(to) {
			t.Fatalf("record %d at %v, outside [%v, %v)", i, rec.Time, from, to)
		}
		if rec.Observer == flow.Server {
			servers++
		}
	}
	if n != 3001 {
		t.Errorf("read %d records, want 3001", n)
	}
	if servers < n/3 {
		t.Errorf("%d of %d records are server-observed, want about half", servers, n)
	}
}

// TestRecordsNameObserver fails unless each record observed in a pod
// carries, as the collector writes them, that pod's uid, a container id,
// and a cgroup and network namespace no other pod has; and a record
// observed outside any pod (the API server, on its node's address) none.
func TestRecordsNameObserver(t *testing.T) {
	c := newCluster(t, small)
	recs, err := c.Records(3001)
	if err != nil {
		t.Fatal(err)
	}
	uidAt := map[netip.Addr]string{}
	for _, p := range c.Inventory().Pods {
		uidAt[netip.MustParseAddr(p.Status.PodIP)] = string(p.UID)
	}
	type socket struct {
		cgroup    uint64
		container string
		netns     uint32
	}
	byUID, inPods, outside := map[string]socket{}, 0, 0
	for i, rec := range recs {
		at := rec.Src.Addr()
		if rec.Observer == flow.Server {
			at = rec.Dst.Addr()
		}
		uid, inPod := uidAt[at]
		got := socket{rec.CgroupID, rec.ContainerID, rec.Netns}
		switch {
		case !inPod && (rec.PodUID != "" || got != socket{}):
			t.Fatalf("record %d, observed at %v in no pod, names pod %q, %+v", i, at, rec.PodUID, got)
		case !inPod:
			outside++
			continue
		case rec.PodUID != uid:
			t.Fatalf("record %d, observed at %v, names pod %q, want %q", i, at, rec.PodUID, uid)
		case len(rec.ContainerID) != 64 || rec.CgroupID == 0 || rec.Netns == 0:
			t.Fatalf("record %d: pod %s's socket %+v", i, uid, got)
		}
		inPods++
		if prev, ok := byUID[uid]; ok && prev != got {
			t.Fatalf("record %d: pod %s's socket %+v, before %+v", i, uid, got, prev)
		}
		byUID[uid] = got
	}
	seen := map[socket]string{}
	for uid, s := range byUID {
		for _, other := range []socket{{cgroup: s.cgroup}, {container: s.container}, {netns: s.netns}} {
			if prev, ok := seen[other]; ok {
				t.Errorf("pods %s and %s share %+v", prev, uid, other)
			}
			seen[other] = uid
		}
	}
	if inPods == 0 || outside == 0 {
		t.Errorf("%d records observed in pods, %d outside: want both", inPods, outside)
	}
}

// TestLearnAndGenerate fails if the inventory YAML is not what the CLI
// reads, if any synthetic address does not resolve, if the baseline does not
// hold exactly the planned edges, or if some workload gets no policy.
func TestLearnAndGenerate(t *testing.T) {
	c := newCluster(t, small)
	invYAML, flows := render(t, small, 4*c.Edges())
	inv, err := inventory.Load(bytes.NewReader(invYAML), "cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if inv.Objects() != c.Inventory().Objects() || len(inv.Skipped) != 0 {
		t.Fatalf("read back %d objects, skipped %v; wrote %d", inv.Objects(), inv.Skipped, c.Inventory().Objects())
	}
	store, err := boltdb.Open(filepath.Join(t.TempDir(), "flowpol.db"), boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	l, err := learn.New(resolve.New(inv, resolve.Options{}), learn.Options{Bucket: store.Bucket()})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := learn.FromReader(context.Background(), flow.NewReader(bytes.NewReader(flows), "flows"), l, store, learn.BatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Unresolved) != 0 || len(sum.Ignored) != 0 {
		t.Errorf("unresolved %v, ignored %v; want none", sum.Unresolved, sum.Ignored)
	}
	if st, err := store.Status(context.Background()); err != nil || st.Edges != c.Edges() {
		t.Errorf("baseline holds %d edges (%v), want %d", st.Edges, err, c.Edges())
	}
	_, to := c.Span()
	w, err := store.Window(context.Background(), to.Add(-3*time.Hour), to)
	if err != nil {
		t.Fatal(err)
	}
	res := generator.Generate(w, generator.Options{})
	if want := small.Workloads + 1; len(res.Policies) != want || len(res.Warnings) != 0 {
		t.Errorf("%d policies, want %d (one per workload and CoreDNS); warnings %q", len(res.Policies), want, res.Warnings)
	}
}

func TestOptionsErrors(t *testing.T) {
	tests := []struct {
		name string
		opts synth.Options
	}{
		{"one workload", synth.Options{Workloads: 1}},
		{"too many edges", synth.Options{Workloads: 4, Edges: 7}},
		{"too many nodes", synth.Options{Nodes: 3000}},
		{"pods do not fit", synth.Options{Workloads: 2000, Nodes: 3}},
		{"negative span", synth.Options{Span: -time.Hour}},
		{"unknown ports above one", synth.Options{UnknownPorts: 1.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := synth.New(tt.opts); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

// TestUnknownPorts fails unless about the share asked of the calls through
// workloads' Services go to a port the Service lacks, with no server
// record, and learning leaves those, and only those, unresolved.
func TestUnknownPorts(t *testing.T) {
	opts := small
	opts.UnknownPorts = 0.2
	c := newCluster(t, opts)
	recs, err := c.Records(20_000)
	if err != nil {
		t.Fatal(err)
	}
	l, err := learn.New(resolve.New(c.Inventory(), resolve.Options{}), learn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var unknown, clients int
	for i := range recs {
		rec := &recs[i]
		if rec.Observer == flow.Client {
			clients++
		}
		if rec.Dst.Port() == 9999 {
			if rec.Observer != flow.Client {
				t.Fatalf("a server record on the unknown port: %+v", rec)
			}
			unknown++
		}
		l.Add(rec)
	}
	if share := float64(unknown) / float64(clients); share < 0.05 || share > 0.2 {
		t.Errorf("%d of %d client records to an unknown port (%.3f); want a fifth of the calls through workloads' Services", unknown, clients, share)
	}
	var got uint64
	for _, n := range l.Run().Unresolved {
		got += n
	}
	if got != uint64(unknown) {
		t.Errorf("learning left %d records unresolved (%v), want the %d to the unknown port", got, l.Run().Unresolved, unknown)
	}
}
