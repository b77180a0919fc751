package boltdb

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/topology"
)

// Schema 1, as this package reads it to migrate: buckets meta (schema
// "1", bucket_seconds, cluster JSON), edges (id → JSON record), edge_index
// (display text → id), counts (bucket start (8) + edge id (8) → client,
// server, first and last milliseconds as uvarints), workloads (JSON),
// runs (JSON), and, when present, delivered (sender → sequence (8)) and
// waiting (index → JSON record).
var (
	v1Edges     = []byte("edges")
	v1Counts    = []byte("counts")
	v1Workloads = []byte("workloads")
	v1Runs      = []byte("runs")
	v1Delivered = []byte("delivered")
	v1Waiting   = []byte("waiting")
	v1Bucket    = []byte("bucket_seconds")
)

// v1Reasons are the unresolved reasons as schema 1 wrote them, by number.
var v1Reasons = map[string]topology.Reason{
	"no pod or service has this cluster address": topology.ReasonUnknownClusterAddr,
	"service has no such port":                   topology.ReasonNoServicePort,
	"service has no backends":                    topology.ReasonNoBackends,
	"service address as source":                  topology.ReasonServiceAsSource,
}

type v1End struct {
	Kind     uint8 `json:"kind"`
	Workload struct {
		Namespace string `json:"namespace"`
		Kind      string `json:"kind"`
		Name      string `json:"name"`
	} `json:"workload"`
	Node   string     `json:"node"`
	Addr   netip.Addr `json:"addr"`
	Reason string     `json:"reason"`
}

type v1Record struct {
	Edge struct {
		Src   v1End  `json:"src"`
		Dst   v1End  `json:"dst"`
		Port  uint16 `json:"port"`
		Proto uint8  `json:"proto"`
	} `json:"edge"`
	SrcPods  []uint64 `json:"src_pods"`
	DstPods  []uint64 `json:"dst_pods"`
	Nodes    []string `json:"nodes"`
	SrcComms []string `json:"src_comms"`
	DstComms []string `json:"dst_comms"`
}

func (e v1End) end() (topology.End, error) {
	out := topology.End{Kind: topology.Kind(e.Kind), Node: e.Node, Addr: e.Addr,
		Workload: topology.WorkloadRef{Namespace: e.Workload.Namespace, Kind: e.Workload.Kind, Name: e.Workload.Name}}
	if e.Reason != "" {
		r, ok := v1Reasons[e.Reason]
		if !ok {
			return out, fmt.Errorf("unresolved reason %q", e.Reason)
		}
		out.Reason = r
	}
	return out, nil
}

// migrateIfOld migrates a file of an older schema in place and returns
// the handle of the file to use: the one given when there was nothing to
// migrate. A schema-1 file is migrated even by a read-only open; a
// schema-2 one, which this build reads as it is, only by a writable one.
func (s *Store) migrateIfOld(db *bolt.DB) (*bolt.DB, error) {
	version := 0
	err := db.View(func(tx *bolt.Tx) error {
		if meta := tx.Bucket(bucketMeta); meta != nil {
			version, _ = fileSchema(meta)
		}
		return nil
	})
	switch {
	case err != nil:
		return db, err
	case version == 2 && !s.opts.ReadOnly:
		return db, s.migrateV2(db)
	case version != 1:
		return db, nil
	}
	if s.opts.ReadOnly {
		if err := db.Close(); err != nil {
			return nil, fmt.Errorf("close %s: %w", s.path, err)
		}
		if db, err = openBolt(s.path, false, s.opts.Timeout); err != nil {
			return nil, fmt.Errorf("%s has baseline schema 1 and migrating it to %d needs write access: %w", s.path, SchemaVersion, err)
		}
	}
	if err := s.migrate(db); err != nil {
		return nil, errors.Join(fmt.Errorf("migrate %s from schema 1 to %d: %w", s.path, SchemaVersion, err), db.Close())
	}
	if err := db.Close(); err != nil {
		return nil, fmt.Errorf("close %s: %w", s.path, err)
	}
	s.opts.Log(fmt.Sprintf("%s: migrated baseline schema 1 → %d; the original is %s.v1.bak", s.path, SchemaVersion, s.path))
	return openBolt(s.path, s.opts.ReadOnly, s.opts.Timeout)
}

// migrate keeps the original as FILE.v1.bak, writes the content of the
// current schema into a temporary file and renames it over FILE. A crash
// at any moment leaves FILE whole, in one schema or the other.
func (s *Store) migrate(old *bolt.DB) error {
	if err := copyFile(s.path, s.path+".v1.bak"); err != nil {
		return err
	}
	tmp := s.path + ".migrate-tmp"
	if err := os.Remove(tmp); err != nil && !os.IsNotExist(err) {
		return err
	}
	dst, err := openBolt(tmp, false, s.opts.Timeout)
	if err != nil {
		return err
	}
	err = old.View(func(src *bolt.Tx) error {
		return dst.Update(func(tx *bolt.Tx) error { return s.migrateTx(src, tx) })
	})
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return errors.Join(err, os.Remove(tmp))
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(s.path))
}

func (s *Store) migrateTx(src, tx *bolt.Tx) error {
	width, err := v1Width(src)
	if err != nil {
		return err
	}
	r := s.opts.Retention
	if r == nil {
		r = baseline.DefaultRetention()
		if r[0].Bucket != width {
			r = baseline.Retention{{Bucket: width}}
		}
	}
	if r[0].Bucket != width {
		return fmt.Errorf("retention %s: finest bucket differs from the file's %v", r, width)
	}
	s.opts.Retention = r
	st, err := s.create(tx)
	if err != nil {
		return err
	}
	edges, err := v1ReadEdges(src)
	if err != nil {
		return err
	}
	if err := v1CopyCounts(src, tx, st, edges); err != nil {
		return err
	}
	if err := writeState(tx, st); err != nil {
		return err
	}
	return v1CopyRest(src, tx)
}

func v1Width(src *bolt.Tx) (time.Duration, error) {
	raw := src.Bucket(bucketMeta).Get(v1Bucket)
	secs, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || secs <= 0 {
		return 0, fmt.Errorf("%w: bucket width %q", ErrNotBaseline, raw)
	}
	return time.Duration(secs) * time.Second, nil
}

// v1ReadEdges reads schema 1's edge records by id, as edge deltas.
func v1ReadEdges(src *bolt.Tx) (map[uint64]*baseline.EdgeDelta, error) {
	b := src.Bucket(v1Edges)
	if b == nil {
		return nil, fmt.Errorf("%w: bucket edges is missing", ErrNotBaseline)
	}
	out := map[uint64]*baseline.EdgeDelta{}
	err := b.ForEach(func(k, v []byte) error {
		var rec v1Record
		if len(k) != 8 {
			return fmt.Errorf("%w: edge id %x", ErrCorrupt, k)
		}
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("%w: edge %x: %w", ErrCorrupt, k, err)
		}
		e, err := rec.delta()
		if err != nil {
			return fmt.Errorf("%w: edge %x: %w", ErrCorrupt, k, err)
		}
		out[binary.BigEndian.Uint64(k)] = e
		return nil
	})
	return out, err
}

func (rec *v1Record) delta() (*baseline.EdgeDelta, error) {
	src, err := rec.Edge.Src.end()
	if err != nil {
		return nil, err
	}
	dst, err := rec.Edge.Dst.end()
	if err != nil {
		return nil, err
	}
	return &baseline.EdgeDelta{
		Edge:    topology.Edge{Src: src, Dst: dst, Port: rec.Edge.Port, Proto: flow.Proto(rec.Edge.Proto)},
		SrcPods: rec.SrcPods, DstPods: rec.DstPods, Nodes: rec.Nodes, SrcComms: rec.SrcComms, DstComms: rec.DstComms,
	}, nil
}

// v1CopyCounts gathers each edge's cells and applies them, edge records
// and all, to the new file.
func v1CopyCounts(src, tx *bolt.Tx, st *state, edges map[uint64]*baseline.EdgeDelta) error {
	b := src.Bucket(v1Counts)
	if b == nil {
		return fmt.Errorf("%w: bucket counts is missing", ErrNotBaseline)
	}
	err := b.ForEach(func(k, v []byte) error {
		c, id, err := v1Cell(k, v)
		if err != nil {
			return err
		}
		e := edges[id]
		if e == nil {
			return fmt.Errorf("%w: counts for edge %d, which has no record", ErrCorrupt, id)
		}
		e.Cells = append(e.Cells, c)
		return nil
	})
	if err != nil {
		return err
	}
	d := &baseline.Delta{}
	for _, id := range slices.Sorted(maps.Keys(edges)) {
		d.Edges = append(d.Edges, *edges[id])
	}
	_, err = applyTx(tx, st, newEdgeTx(nil), d)
	return err
}

func v1Cell(k, v []byte) (baseline.Cell, uint64, error) {
	if len(k) != 16 {
		return baseline.Cell{}, 0, fmt.Errorf("%w: counts key %x", ErrCorrupt, k)
	}
	d := decoder{b: v}
	c := baseline.Cell{Start: int64(binary.BigEndian.Uint64(k)), Client: d.uvarint(), Server: d.uvarint()}
	first, last := d.uvarint(), d.uvarint()
	if err := d.done(); err != nil || first > last || last > 1<<32-1 {
		return c, 0, fmt.Errorf("%w: counts at %x", ErrCorrupt, k)
	}
	c.FirstMS, c.LastMS = uint32(first), uint32(last)
	return c, binary.BigEndian.Uint64(k[8:]), nil
}

// v1CopyRest copies the workloads, cluster facts, runs, delivery marks and
// waiting records.
func v1CopyRest(src, tx *bolt.Tx) error {
	if err := v1CopyWorkloads(src, tx); err != nil {
		return err
	}
	if v := src.Bucket(bucketMeta).Get(keyCluster); v != nil {
		if err := tx.Bucket(bucketMeta).Put(keyCluster, seal(keyCluster, v)); err != nil {
			return err
		}
	}
	for _, name := range [][]byte{v1Runs, v1Delivered, v1Waiting} {
		if err := v1CopySealed(src.Bucket(name), tx.Bucket(name)); err != nil {
			return fmt.Errorf("bucket %s: %w", name, err)
		}
	}
	return nil
}

func v1CopyWorkloads(src, tx *bolt.Tx) error {
	b := src.Bucket(v1Workloads)
	if b == nil {
		return nil
	}
	dst := tx.Bucket(bucketWorkloads)
	return b.ForEach(func(k, v []byte) error {
		var w topology.Workload
		if err := json.Unmarshal(v, &w); err != nil {
			return fmt.Errorf("%w: workload %s: %w", ErrCorrupt, k, err)
		}
		key := workloadKey(w.Ref)
		return dst.Put(key, seal(key, v))
	})
}

// v1CopySealed copies every key of a bucket (none when it is missing),
// each value sealed.
func v1CopySealed(src, dst *bolt.Bucket) error {
	if src == nil {
		return nil
	}
	if err := dst.SetSequence(src.Sequence()); err != nil {
		return err
	}
	return src.ForEach(func(k, v []byte) error { return dst.Put(k, seal(k, v)) })
}

// copyFile copies src to dst durably: into dst's temporary file, synced,
// then renamed.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close() //nolint:errcheck // read only
	tmp := dst + ".tmp"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		return fmt.Errorf("keep the original as %s: %w", dst, errors.Join(err, os.Remove(tmp)))
	}
	return syncDir(filepath.Dir(dst))
}
