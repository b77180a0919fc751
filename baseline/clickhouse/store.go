package clickhouse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/flowpol/flowpol/baseline"
)

// Options tunes Open. The zero value is ready to use.
type Options struct {
	// Retention is the tiers to keep. Nil means the store's own, or
	// baseline.DefaultRetention for a new one. Set, it replaces how long
	// each tier is kept; its widths must be the store's.
	Retention baseline.Retention
	// ReadOnly writes nothing: the cluster must be in the store already.
	ReadOnly bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives notices for people; nil drops them.
	Log func(string)
}

// Store is a baseline in ClickHouse, for one Kubernetes cluster.
type Store struct {
	db      *database
	opts    Options
	cluster string
	writer  string
	tiers   baseline.Retention

	mu       sync.Mutex // guards what follows
	version  uint64     // the last version written
	newest   int64      // end of the newest finest cell held, unix seconds
	retained int64      // data time retention last ran as of
	// trimmedTo is the month (YYYYMM) before which the trimmed tables
	// were last trimmed.
	trimmedTo uint32
	edges     map[uint64]edgeMark
}

// edgeMark is what the store last wrote of an edge's record: on which day,
// and a hash of the pods, nodes and processes it held.
type edgeMark struct {
	day  int64
	sets uint64
}

var _ baseline.Store = (*Store)(nil)

// Open connects to the store a clickhouse:// URL names, creating or
// migrating its schema, and reads the cluster's retention.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	d, err := parseDSN(url)
	if err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = func(string) {}
	}
	if opts.Retention != nil {
		if err := opts.Retention.Validate(); err != nil {
			return nil, fmt.Errorf("open %s: %w", d.redacted(), err)
		}
	}
	s, err := open(ctx, d, opts)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", d.redacted(), err)
	}
	return s, nil
}

func open(ctx context.Context, d *dsn, opts Options) (*Store, error) {
	db, err := openDatabase(ctx, d, opts.Now)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, opts: opts, writer: d.writer, newest: baseline.NoCut, retained: baseline.NoCut, edges: map[uint64]edgeMark{}}
	if s.writer == "" {
		if s.writer, err = os.Hostname(); err != nil {
			return nil, errors.Join(err, db.close())
		}
	}
	if err := s.init(ctx); err != nil {
		return nil, errors.Join(err, db.close())
	}
	return s, nil
}

func (s *Store) init(ctx context.Context) error {
	if err := s.db.migrate(ctx); err != nil {
		return err
	}
	var err error
	if s.cluster, err = s.pickCluster(ctx); err != nil {
		return err
	}
	s.db.opts.cluster = s.cluster // messages name it
	if s.tiers, err = s.retention(ctx); err != nil {
		return err
	}
	return s.readNewest(ctx)
}

// pickCluster is the URL's cluster, or the store's only one, or "default"
// in an empty store.
func (s *Store) pickCluster(ctx context.Context) (string, error) {
	if s.db.opts.cluster != "" {
		return s.db.opts.cluster, nil
	}
	var names []string
	err := s.db.query(ctx, "SELECT DISTINCT cluster FROM "+s.db.table(tableSettings)+" ORDER BY cluster", func(r driver.Rows) error {
		var n string
		names = append(names, n)
		return r.Scan(&names[len(names)-1])
	})
	switch {
	case err != nil:
		return "", fmt.Errorf("read the clusters: %w", err)
	case len(names) == 1:
		return names[0], nil
	case len(names) == 0 && !s.opts.ReadOnly:
		return "default", nil
	case len(names) == 0:
		return "", fmt.Errorf("%w: the store holds no cluster yet (flowpol learn or aggregator writes one)", ErrCluster)
	}
	return "", fmt.Errorf("%w: the store holds %s: say which with ?cluster=NAME", ErrCluster, strings.Join(names, ", "))
}

// retention reads the cluster's tiers, writing Options.Retention (or the
// default for a new cluster) when it changes them.
func (s *Store) retention(ctx context.Context) (baseline.Retention, error) {
	var raw string
	var n uint64
	q := fmt.Sprintf("SELECT argMax(tiers, version), count() FROM %s WHERE cluster = %s", s.db.table(tableSettings), quoteString(s.cluster))
	if err := s.db.conn.QueryRow(s.db.ctx(ctx), q).Scan(&raw, &n); err != nil {
		return nil, fmt.Errorf("read the retention: %w", err)
	}
	if n == 0 && s.opts.ReadOnly {
		return nil, fmt.Errorf("%w: the store holds no cluster %q", ErrCluster, s.cluster)
	}
	want := s.opts.Retention
	if n == 0 {
		if want == nil {
			want = baseline.DefaultRetention()
		}
		return want, s.writeRetention(ctx, want)
	}
	have, err := baseline.ParseRetention(raw)
	if err != nil {
		return nil, fmt.Errorf("the store's retention: %w", err)
	}
	if want == nil || s.opts.ReadOnly || want.String() == have.String() {
		return have, nil
	}
	if err := sameWidths(have, want); err != nil {
		return nil, err
	}
	return want, s.writeRetention(ctx, want)
}

func (s *Store) writeRetention(ctx context.Context, r baseline.Retention) error {
	return s.db.insert(ctx, tableSettings, [][]any{{s.cluster, s.nextVersion(), r.String()}})
}

// nextVersion orders this writer's replacements: nanoseconds of the
// clock, always increasing.
func (s *Store) nextVersion() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version = max(s.version+1, uint64(time.Now().UnixNano()))
	return s.version
}

func (s *Store) readNewest(ctx context.Context) error {
	var newest int64
	var n uint64
	q := fmt.Sprintf("SELECT max(toInt64(start)), count() FROM %s WHERE cluster = %s AND tier = 0", s.db.table(tableCells), quoteString(s.cluster))
	if err := s.db.conn.QueryRow(s.db.ctx(ctx), q).Scan(&newest, &n); err != nil {
		return fmt.Errorf("read the newest cell: %w", err)
	}
	if n > 0 {
		s.newest = newest + int64(s.tiers[0].Bucket/time.Second)
	}
	return nil
}

// state reads the tiers' cuts from the rollup commits.
func (s *Store) state(ctx context.Context) (*state, error) {
	rs, err := s.rollups(ctx, s.cluster)
	if err != nil {
		return nil, err
	}
	return chain(s.tiers, rs[s.cluster]), nil
}

// rollups reads the rollup commits of a cluster (all of them for ""), by
// cluster.
func (s *Store) rollups(ctx context.Context, cluster string) (map[string][]rollupCommit, error) {
	out := map[string][]rollupCommit{}
	q := fmt.Sprintf("SELECT cluster, commit, sender, toInt64(seq), prev FROM %s WHERE kind = %d", s.db.table(tableCommits), kindRollup)
	if cluster != "" {
		q += " AND cluster = " + quoteString(cluster)
	}
	err := s.db.query(ctx, q, func(r driver.Rows) error {
		var c rollupCommit
		var cl, sender string
		if err := r.Scan(&cl, &c.commit, &sender, &c.cut, &c.prev); err != nil {
			return err
		}
		if _, err := fmt.Sscanf(sender, "tier/%d", &c.tier); err != nil {
			return fmt.Errorf("rollup commit %s: sender %q", c.commit, sender)
		}
		out[cl] = append(out[cl], c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the rollups: %w", err)
	}
	return out, nil
}

// Commit kinds.
const (
	kindDelta  = 0 // a delta: counts
	kindResent = 1 // a delta of one batch sent again: counts unless a delta holds the batch
	kindRollup = 2 // cells rolled into a coarser tier, moving a cut
)

// valid is the subquery of the commits whose rows count: every delta;
// of the resent batches, those no delta holds, the least commit for each;
// the rollups on each tier's chain.
func (s *Store) valid(st *state) string {
	c, cl := s.db.table(tableCommits), quoteString(s.cluster)
	q := fmt.Sprintf("SELECT commit FROM %[1]s WHERE cluster = %[2]s AND kind = %[3]d"+
		" UNION ALL SELECT min(commit) FROM %[1]s WHERE cluster = %[2]s AND kind = %[4]d"+
		" AND (sender, seq) GLOBAL NOT IN (SELECT sender, seq FROM %[1]s WHERE cluster = %[2]s AND kind = %[3]d) GROUP BY sender, seq",
		c, cl, kindDelta, kindResent)
	if len(st.rollups) > 0 {
		quoted := make([]string, len(st.rollups))
		for i, r := range st.rollups {
			quoted[i] = quoteString(r)
		}
		q += " UNION ALL SELECT arrayJoin([" + strings.Join(quoted, ", ") + "])"
	}
	return q
}

func newCommitID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// Cluster is the Kubernetes cluster the store reads and writes.
func (s *Store) Cluster() string { return s.cluster }

// URL is the store's URL without its password.
func (s *Store) URL() string { return s.db.opts.redacted() }

// Bucket is the finest tier's width.
func (s *Store) Bucket() time.Duration { return s.tiers[0].Bucket }

// Close releases the connections.
func (s *Store) Close() error {
	if err := s.db.close(); err != nil {
		return fmt.Errorf("close %s: %w", s.URL(), err)
	}
	return nil
}
