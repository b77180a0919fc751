package aggregator

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the layout of the baseline file this build reads and
// writes.
const SchemaVersion = 1

// Bucket names.
var (
	bucketMeta      = []byte("meta")
	bucketEdges     = []byte("edges")      // edge id → edgeRecord (JSON)
	bucketEdgeIndex = []byte("edge_index") // edge key → edge id
	bucketCounts    = []byte("counts")     // bucket start (8) + edge id (8) → client, server (uvarints)
	bucketWorkloads = []byte("workloads")  // workload ref → topology.Workload (JSON)
	bucketRuns      = []byte("runs")       // sequence (8) → Summary (JSON)

	keySchema  = []byte("schema")
	keyBucket  = []byte("bucket_seconds")
	keyCluster = []byte("cluster")
)

// StoreOptions tunes Open. The zero value is ready to use.
type StoreOptions struct {
	// Timeout is how long Open waits for another process to release the
	// file; zero means 1 s.
	Timeout time.Duration
	// Bucket is the width of a time bucket for a new file; zero means one
	// minute. An existing file keeps the width it was created with.
	Bucket time.Duration
	// ReadOnly opens the file for reading only; it must exist.
	ReadOnly bool
}

// Store is the baseline: one bbolt file.
type Store struct {
	db     *bolt.DB
	path   string
	bucket time.Duration
}

// Open opens or creates the baseline at path and checks its schema.
func Open(path string, opts StoreOptions) (*Store, error) {
	if opts.Timeout == 0 {
		opts.Timeout = time.Second
	}
	if opts.Bucket == 0 {
		opts.Bucket = time.Minute
	}
	if opts.Bucket < time.Second || opts.Bucket%time.Second != 0 {
		return nil, fmt.Errorf("open %s: bucket width %v is not a whole number of seconds", path, opts.Bucket)
	}
	if opts.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	bopts := &bolt.Options{Timeout: opts.Timeout, ReadOnly: opts.ReadOnly}
	if !opts.ReadOnly {
		bopts.InitialMmapSize = 1 << 30 // address space only; spares remapping as the file grows
	}
	db, err := bolt.Open(path, 0o600, bopts)
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w (waited %v)", path, ErrLocked, opts.Timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if opts.ReadOnly {
		err = s.view(func(tx *bolt.Tx) error { return s.checkMeta(tx) })
	} else {
		err = s.update(func(tx *bolt.Tx) error { return s.init(tx, opts.Bucket) })
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return s, nil
}

// init creates the buckets of a new file, or checks an existing one.
func (s *Store) init(tx *bolt.Tx, width time.Duration) error {
	if tx.Bucket(bucketMeta) != nil {
		return s.checkMeta(tx)
	}
	if k, _ := tx.Cursor().First(); k != nil {
		return ErrNotBaseline // a bbolt file of something else
	}
	for _, name := range [][]byte{bucketMeta, bucketEdges, bucketEdgeIndex, bucketCounts, bucketWorkloads, bucketRuns} {
		if _, err := tx.CreateBucket(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	meta := tx.Bucket(bucketMeta)
	if err := meta.Put(keySchema, []byte(strconv.Itoa(SchemaVersion))); err != nil {
		return err
	}
	s.bucket = width
	return meta.Put(keyBucket, []byte(strconv.FormatInt(int64(width/time.Second), 10)))
}

func (s *Store) checkMeta(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return ErrNotBaseline
	}
	v, err := strconv.Atoi(string(meta.Get(keySchema)))
	if err != nil {
		return fmt.Errorf("%w: schema key %q", ErrNotBaseline, meta.Get(keySchema))
	}
	if v != SchemaVersion {
		return fmt.Errorf("%w: file has version %d, this build reads %d", ErrSchema, v, SchemaVersion)
	}
	secs, err := strconv.ParseInt(string(meta.Get(keyBucket)), 10, 64)
	if err != nil || secs <= 0 {
		return fmt.Errorf("%w: bucket width %q", ErrNotBaseline, meta.Get(keyBucket))
	}
	s.bucket = time.Duration(secs) * time.Second
	for _, name := range [][]byte{bucketEdges, bucketEdgeIndex, bucketCounts, bucketWorkloads, bucketRuns} {
		if tx.Bucket(name) == nil {
			return fmt.Errorf("%w: bucket %s is missing", ErrNotBaseline, name)
		}
	}
	return nil
}

// view runs fn in a read transaction. bbolt panics on some corrupt pages:
// that becomes an error naming the file, and the transaction is rolled back.
func (s *Store) view(fn func(*bolt.Tx) error) (err error) {
	defer s.corrupt(&err)
	return s.db.View(fn)
}

// update runs fn in a write transaction, as view does.
func (s *Store) update(fn func(*bolt.Tx) error) (err error) {
	defer s.corrupt(&err)
	return s.db.Update(fn)
}

func (s *Store) corrupt(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: %v", ErrCorrupt, r) // callers name the file
	}
}

// Path returns the file's path.
func (s *Store) Path() string { return s.path }

// Bucket returns the width of the file's time buckets.
func (s *Store) Bucket() time.Duration { return s.bucket }

// Close releases the file.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close %s: %w", s.path, err)
	}
	return nil
}

// Size returns the file's size in bytes.
func (s *Store) Size() (int64, error) {
	var n int64
	err := s.view(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n, err
}

func countKey(bucket int64, id uint64) []byte { return appendCountKey(nil, bucket, id) }

// appendCountKey appends a counts key: the bucket's start, then the edge id.
func appendCountKey(b []byte, bucket int64, id uint64) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(b, uint64(bucket)), id)
}

func idKey(id uint64) []byte { return binary.BigEndian.AppendUint64(nil, id) }

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return b.Put(key, data)
}

// EdgeCount returns how many edges the baseline holds.
func (s *Store) EdgeCount() (int, error) {
	var n int
	err := s.view(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketEdges).Stats().KeyN
		return nil
	})
	return n, err
}
