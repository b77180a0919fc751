package aggregator

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/flowpol/flowpol/flow"
)

// Buckets of senders that deliver records in numbered batches. They are
// created by the first commit that needs them, so files written before
// them still open.
var (
	bucketDelivered = []byte("delivered") // sender → sequence (8) of its last batch committed
	bucketWaiting   = []byte("waiting")   // index (8) → a waiting record (JSON)
)

// CommitDelivered commits as Commit does, and records in the same
// transaction, for each sender named, the sequence number of the last
// batch of records it delivered whose records are all in this commit or an
// earlier one. Store.Delivered reads them back: a batch sent again after a
// crash or a timeout can then be recognised and not counted twice.
func (l *Learner) CommitDelivered(delivered map[string]uint64) error {
	return l.commit(delivered)
}

// Retry gives the records waiting for the cluster state another chance, as
// each Add does: at most once a second it asks for a newer state and adds
// the records it now places, and those that waited MaxWait. A caller whose
// records stop arriving calls it from time to time, then commits.
func (l *Learner) Retry() {
	if l.opts.Refresh != nil {
		l.refresh(false)
	}
}

// Restore takes back the records a KeepWaiting learner left waiting in the
// file when its process ended, and makes them wait again, from now (without
// Refresh, they are added as they resolve). It returns how many there were.
func (l *Learner) Restore() (int, error) {
	var lines bytes.Buffer
	err := l.store.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketWaiting)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			lines.Write(v)
			return lines.WriteByte('\n')
		})
	})
	if err != nil {
		return 0, fmt.Errorf("read waiting records from %s: %w", l.store.path, err)
	}
	rd := flow.NewReader(&lines, l.store.path+" (waiting records)")
	n := 0
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
		if l.opts.Refresh == nil { // nothing to wait for: added as they resolve
			p, _ := l.place(rec)
			l.add(rec, p)
			l.waitingChanged = true
			continue
		}
		l.waiting = append(l.waiting, waitingRecord{rec: *rec, since: l.opts.Now()})
	}
}

// Delivered returns, for each sender, the sequence number of its last batch
// the file holds (see Learner.CommitDelivered).
func (s *Store) Delivered() (map[string]uint64, error) {
	out := map[string]uint64{}
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDelivered)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("%w: delivered sequence of %q", ErrNotBaseline, k)
			}
			out[string(k)] = binary.BigEndian.Uint64(v)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read delivered batches from %s: %w", s.path, err)
	}
	return out, nil
}

func putDelivered(tx *bolt.Tx, delivered map[string]uint64) error {
	if len(delivered) == 0 {
		return nil
	}
	b, err := tx.CreateBucketIfNotExists(bucketDelivered)
	if err != nil {
		return err
	}
	for sender, seq := range delivered {
		if err := b.Put([]byte(sender), binary.BigEndian.AppendUint64(nil, seq)); err != nil {
			return fmt.Errorf("delivered %q: %w", sender, err)
		}
	}
	return nil
}

// putWaiting replaces the stored waiting records.
func putWaiting(tx *bolt.Tx, recs []flow.Record) error {
	if err := tx.DeleteBucket(bucketWaiting); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
		return err
	}
	b, err := tx.CreateBucket(bucketWaiting)
	if err != nil {
		return err
	}
	for i := range recs {
		if err := b.Put(idKey(uint64(i)), flow.AppendJSON(nil, &recs[i])); err != nil {
			return err
		}
	}
	return nil
}
