package learn_test

import (
	"bytes"
	"context"
	"net/netip"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/baseline/boltdb"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/internal/synth"
	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/learn"
	"github.com/flowpol/flowpol/resolve"
	"github.com/flowpol/flowpol/topology"
)

// FromReader reads records ahead of adding them; it stores what adding
// them one at a time does, batch for batch: the same edges with the same
// evidence, and the same run. The records are a cluster's like the
// held-out one's (Services with unknown ports, DNS answers), with a
// loopback one every 1,000, in batches that end inside a read-ahead.
func TestReadAheadStoresAsAdd(t *testing.T) {
	inv, recs := heldOutLike(t)
	var flows []byte
	for i := range recs {
		flows = append(flow.AppendJSON(flows, &recs[i]), '\n')
	}
	batch := learn.BatchOptions{BatchRecords: 1_001}
	ahead, aheadRun := learnWith(t, inv, batch, func(l *learn.Learner, s baseline.Store) (baseline.Run, error) {
		return learn.FromReader(context.Background(), flow.NewReader(bytes.NewReader(flows), "flows.jsonl"), l, s, batch)
	})
	one, oneRun := learnWith(t, inv, batch, func(l *learn.Learner, s baseline.Store) (baseline.Run, error) {
		return addEach(recs, learn.NewBatcher(l, s, batch))
	})
	if aheadRun.Records != heldOutRecords || aheadRun.Batches != 20 || len(aheadRun.Ignored) == 0 || len(aheadRun.Unresolved) == 0 {
		t.Errorf("run %+v: want %d records in 20 batches, some ignored, some unresolved", aheadRun, heldOutRecords)
	}
	if !reflect.DeepEqual(aheadRun, oneRun) {
		t.Errorf("run read ahead\n%+v\nadded one at a time\n%+v", aheadRun, oneRun)
	}
	if len(ahead) == 0 || len(ahead) != len(one) {
		t.Fatalf("%d edges stored read ahead, %d added one at a time", len(ahead), len(one))
	}
	for i := range ahead {
		if !reflect.DeepEqual(ahead[i], one[i]) {
			t.Errorf("edge %d read ahead\n%+v\nadded one at a time\n%+v", i, ahead[i], one[i])
		}
	}
}

// AddAll adds as Add adds each record: the deltas taken between are the
// same.
func TestAddAllTakesAsAdd(t *testing.T) {
	inv, recs := heldOutLike(t)
	all, one := newLearner(t, inv), newLearner(t, inv)
	for start := 0; start < len(recs); start += 7_001 {
		part := recs[start:min(start+7_001, len(recs))]
		all.AddAll(part)
		for i := range part {
			one.Add(&part[i])
		}
		got, want := all.Take(), one.Take()
		if got == nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("records from %d: AddAll's delta differs from Add's, or is empty", start)
		}
	}
	if got, want := all.Run(), one.Run(); !reflect.DeepEqual(got, want) {
		t.Errorf("AddAll's run\n%+v\nAdd's\n%+v", got, want)
	}
}

// heldOutRecords is how many records heldOutLike makes.
const heldOutRecords = 20_003

// heldOutLike returns the inventory and the flow records of a small
// cluster like the held-out one (Services with unknown ports, DNS
// answers), with a loopback record every 1,000, as read from a file.
func heldOutLike(t *testing.T) (*inventory.Inventory, []flow.Record) {
	t.Helper()
	opts := synth.HeldOut()
	opts.Workloads, opts.Edges = 120, 300
	c, err := synth.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := c.Records(heldOutRecords)
	if err != nil {
		t.Fatal(err)
	}
	lo := netip.MustParseAddr("127.0.0.1")
	for i := 999; i < len(recs); i += 1_000 {
		rec := &recs[i]
		rec.Src, rec.Dst = netip.AddrPortFrom(lo, rec.Src.Port()), netip.AddrPortFrom(lo, rec.Dst.Port())
	}
	return c.Inventory(), recs
}

func newLearner(t *testing.T, inv *inventory.Inventory) *learn.Learner {
	t.Helper()
	l, err := learn.New(resolve.New(inv, resolve.Options{}), learn.Options{Bucket: time.Minute, Now: func() time.Time { return time.Unix(0, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// learnWith learns with run into a new baseline and returns its edges and
// the run, its start time zeroed.
func learnWith(t *testing.T, inv *inventory.Inventory, batch learn.BatchOptions, run func(*learn.Learner, baseline.Store) (baseline.Run, error)) ([]topology.EdgeStats, baseline.Run) {
	t.Helper()
	s, err := boltdb.Open(filepath.Join(t.TempDir(), "f.db"), boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l, err := learn.New(resolve.New(inv, resolve.Options{}), learn.Options{Bucket: s.Bucket()})
	if err != nil {
		t.Fatal(err)
	}
	r, err := run(l, s)
	if err != nil {
		t.Fatal(err)
	}
	r.Started = time.Time{}
	w, err := s.Window(context.Background(), time.Unix(0, 0), time.Now().Add(24*time.Hour*365*10))
	if err != nil {
		t.Fatal(err)
	}
	return w.Edges, r
}

// addEach adds recs to b one at a time, each on its own line, and
// finishes.
func addEach(recs []flow.Record, b *learn.Batcher) (baseline.Run, error) {
	ctx := context.Background()
	for i := range recs {
		if err := b.Add(ctx, &recs[i], i+1); err != nil {
			return b.Run(), err
		}
	}
	err := b.Finish(ctx)
	return b.Run(), err
}
