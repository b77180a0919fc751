package boltdb

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/flowpol/flowpol/baseline"
)

// Options tunes Open. The zero value is ready to use.
type Options struct {
	// Timeout is how long Open waits for another process to release the
	// file; zero means 1 s. A file still locked after it is an error
	// wrapping ErrLocked.
	Timeout time.Duration
	// ReadOnly opens the file for reading only; it must exist. A schema-1
	// file is still migrated, which needs write access to it.
	ReadOnly bool
	// Retention is the tiers to keep. Nil means the file's own, or
	// baseline.DefaultRetention for a new file. Set, it replaces how long
	// the file's tiers are kept; its widths must be the file's. A
	// read-only open ignores it.
	Retention baseline.Retention
	// Now is the clock; nil means time.Now. Apply's own retention runs as
	// of the earlier of Now and the newest data held.
	Now func() time.Time
	// Log receives notices, such as a migration, for people; nil drops
	// them.
	Log func(string)
}

// Store is the baseline in one bbolt file.
type Store struct {
	path string
	opts Options
	// mu guards db: every transaction holds it shared, Compact exclusively
	// while it swaps the file.
	mu sync.RWMutex
	db *bolt.DB
	// bucket is the finest tier's width, fixed when the file was made.
	bucket time.Duration
	// edges caches the edges Apply has touched.
	edges edgeCache
}

var _ baseline.Store = (*Store)(nil)

// Open opens or creates the baseline at path, migrating a schema-1 file.
func Open(path string, opts Options) (*Store, error) {
	if opts.Timeout == 0 {
		opts.Timeout = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = func(string) {}
	}
	if opts.Retention != nil {
		if err := opts.Retention.Validate(); err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	if err := checkFile(path, opts.ReadOnly); err != nil {
		return nil, err
	}
	db, err := openBolt(path, opts.ReadOnly, opts.Timeout)
	if err != nil {
		return nil, err
	}
	s := &Store{path: path, opts: opts, db: db}
	if db, err = s.migrateIfOld(db); err != nil {
		if db != nil { // the file could not be read: still open
			err = errors.Join(err, db.Close())
		}
		return nil, err
	}
	s.db = db
	if err := s.init(); err != nil {
		return nil, errors.Join(err, s.db.Close())
	}
	return s, nil
}

// checkFile refuses a file too short for its pages before bbolt maps it.
func checkFile(path string, readOnly bool) error {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) && !readOnly {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	if fi.Size() == 0 && !readOnly {
		return nil // a new baseline
	}
	if fi.Size() == 0 && fi.Mode().IsRegular() {
		// A read-only open would try to initialise it, and fail on a bad
		// file descriptor.
		return fmt.Errorf("%s: an empty file, not a baseline (flowpol learn writes one): %w", path, ErrNotBaseline)
	}
	return checkLength(path, fi.Size())
}

// writableMap is how much of a writable file bbolt maps when it opens
// it. A commit that grows the file past the map maps it anew, and bbolt
// first copies every page the transaction has read into the heap: a
// commit of many edges then briefly held tens of MiB more than it needs,
// and waited for every reader to end. Mapped larger than the file, it is
// not mapped anew until the file passes the map; only the pages read or
// written are resident.
const writableMap = 1 << 30

// growStep is how far past what it needs a writable file grows when it
// must. bbolt grows a file mapped larger than 16 MiB by 16 MiB past its
// need, which writableMap would make every file; a smaller step keeps
// small files small, and the file grows at most once a commit.
const growStep = 1 << 20

func openBolt(path string, readOnly bool, timeout time.Duration) (*bolt.DB, error) {
	// The hashmap freelist finds free pages by run length where the array
	// one scans it all, and retention leaves many; the file's format is
	// the same.
	o := &bolt.Options{Timeout: timeout, ReadOnly: readOnly, FreelistType: bolt.FreelistMapType}
	if !readOnly {
		o.InitialMmapSize = writableMap
	}
	db, err := bolt.Open(path, 0o600, o)
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w (waited %v)", path, ErrLocked, timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.AllocSize = growStep
	return db, nil
}

// init creates the buckets and meta of a new file, or checks an existing
// one and applies Options.Retention to it.
func (s *Store) init() error {
	fn := func(tx *bolt.Tx) error {
		st, err := s.initTx(tx)
		if err != nil {
			return err
		}
		s.bucket = st.tiers[0].Bucket
		return nil
	}
	var err error
	if s.opts.ReadOnly {
		err = s.view(fn)
	} else {
		err = s.update(fn)
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", s.path, err)
	}
	return nil
}

func (s *Store) initTx(tx *bolt.Tx) (*state, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		if k, _ := tx.Cursor().First(); k != nil || !tx.Writable() {
			return nil, ErrNotBaseline // a bbolt file of something else
		}
		return s.create(tx)
	}
	if err := checkSchema(meta, !tx.Writable()); err != nil {
		return nil, err
	}
	for _, name := range allBuckets {
		if tx.Bucket(name) == nil {
			return nil, fmt.Errorf("%w: bucket %s is missing", ErrNotBaseline, name)
		}
	}
	for _, name := range optionalBuckets {
		if tx.Writable() {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return nil, fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
	}
	st, err := readState(tx)
	if err != nil || s.opts.Retention == nil || !tx.Writable() {
		return st, err
	}
	if st, err = st.withRetention(s.opts.Retention); err != nil {
		return nil, err
	}
	return st, writeState(tx, st)
}

func (s *Store) create(tx *bolt.Tx) (*state, error) {
	for _, name := range slices.Concat(allBuckets, optionalBuckets) {
		if _, err := tx.CreateBucket(name); err != nil {
			return nil, fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	if err := tx.Bucket(bucketMeta).Put(keySchema, []byte(strconv.Itoa(SchemaVersion))); err != nil {
		return nil, err
	}
	r := s.opts.Retention
	if r == nil {
		r = baseline.DefaultRetention()
	}
	st := newState(r)
	return st, writeState(tx, st)
}

// fileSchema reads the schema version; zero when the key is missing.
func fileSchema(meta *bolt.Bucket) (int, error) {
	raw := meta.Get(keySchema)
	v, err := strconv.Atoi(string(raw))
	if err != nil {
		return 0, fmt.Errorf("%w: schema key %q", ErrNotBaseline, raw)
	}
	return v, nil
}

// checkSchema accepts the current schema and, for reading only, schema 2:
// its blocks are the current ones without estimates.
func checkSchema(meta *bolt.Bucket, readOnly bool) error {
	v, err := fileSchema(meta)
	if err != nil {
		return err
	}
	if v != SchemaVersion && (v != 2 || !readOnly) {
		return fmt.Errorf("%w: the file has schema %d, this build reads %d", ErrSchema, v, SchemaVersion)
	}
	return nil
}

func readState(tx *bolt.Tx) (*state, error) {
	v, err := unseal(keyTiers, tx.Bucket(bucketMeta).Get(keyTiers))
	if err != nil {
		return nil, err
	}
	return decodeState(v)
}

func writeState(tx *bolt.Tx, st *state) error {
	return tx.Bucket(bucketMeta).Put(keyTiers, seal(keyTiers, st.encode()))
}

// view runs fn in a read transaction. A fault reading the map, or a bbolt
// panic on a corrupt page, becomes an error wrapping ErrCorrupt.
func (s *Store) view(fn func(*bolt.Tx) error) (err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	defer corrupt(&err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return s.db.View(fn)
}

// update runs fn in a write transaction, as view does.
func (s *Store) update(fn func(*bolt.Tx) error) (err error) {
	if s.opts.ReadOnly {
		return ErrReadOnly
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	defer corrupt(&err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return s.db.Update(fn)
}

func corrupt(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: %v", ErrCorrupt, r) // callers name the file
	}
}

// Path returns the file's path.
func (s *Store) Path() string { return s.path }

// Bucket returns the finest tier's bucket width.
func (s *Store) Bucket() time.Duration { return s.bucket }

// Close releases the file.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close %s: %w", s.path, err)
	}
	return nil
}
