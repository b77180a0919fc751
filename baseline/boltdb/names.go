package boltdb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/flowpol/flowpol/baseline"
)

// Buckets of DNS names, added to schema 2 without changing what was there:
// a file without them has no names, and opening it for writing adds them.
var (
	bucketNames   = []byte("names")   // edge id (8) → timed list of DNS names behind its destination
	bucketAnswers = []byte("answers") // DNS name → timed list of the addresses it resolved to

	optionalBuckets = [][]byte{bucketNames, bucketAnswers}
)

// maxAddrs bounds the addresses remembered per name.
const maxAddrs = 256

// timed is a key (a name, or an address's bytes) with the first and last
// moments it was seen, unix milliseconds.
type timed struct {
	key         string
	first, last int64
}

// timedList is a sealed value of the names and answers buckets: a count,
// then each entry's key (length-prefixed), first and last (varints), in
// key order.
type timedList []timed

func (l timedList) encode() []byte {
	b := binary.AppendUvarint(nil, uint64(len(l)))
	for _, e := range l {
		b = appendString(b, e.key)
		b = binary.AppendVarint(binary.AppendVarint(b, e.first), e.last)
	}
	return b
}

func decodeTimedList(v []byte) (timedList, error) {
	d := decoder{b: v}
	n := d.count()
	out := make(timedList, 0, n)
	for range n {
		out = append(out, timed{key: d.string(), first: d.varint(), last: d.varint()})
	}
	if err := d.done(); err != nil {
		return nil, err
	}
	if !slices.IsSortedFunc(out, byKey) {
		return nil, fmt.Errorf("%w: entries out of order", ErrCorrupt)
	}
	return out, nil
}

func byKey(a, b timed) int { return strings.Compare(a.key, b.key) }

// merge widens an entry's moments or inserts it, up to limit entries, and
// says whether the list changed.
func (l *timedList) merge(key string, first, last int64, limit int) bool {
	i, ok := slices.BinarySearchFunc(*l, key, func(e timed, k string) int { return strings.Compare(e.key, k) })
	if !ok {
		if len(*l) >= limit {
			return false
		}
		*l = slices.Insert(*l, i, timed{key, first, last})
		return true
	}
	e := &(*l)[i]
	if first >= e.first && last <= e.last {
		return false
	}
	e.first, e.last = min(e.first, first), max(e.last, last)
	return true
}

// overlapping returns the keys of entries seen in [from, to), unix ms.
func (l timedList) overlapping(from, to int64) []string {
	var out []string
	for _, e := range l {
		if e.last >= from && e.first < to {
			out = append(out, e.key)
		}
	}
	return out
}

func getTimed(b *bolt.Bucket, k []byte) (timedList, error) {
	if b == nil {
		return nil, nil
	}
	v := b.Get(k)
	if v == nil {
		return nil, nil
	}
	return unsealTimed(k, v)
}

func unsealTimed(k, v []byte) (timedList, error) {
	raw, err := unseal(k, v)
	if err != nil {
		return nil, err
	}
	l, err := decodeTimedList(raw)
	if err != nil {
		return nil, fmt.Errorf("list of key %x: %w", k, err)
	}
	return l, nil
}

// putNames merges an edge's names into the file.
func putNames(tx *bolt.Tx, id uint64, names []baseline.NameSeen) error {
	if len(names) == 0 {
		return nil
	}
	b, k := tx.Bucket(bucketNames), idKey(id)
	l, err := getTimed(b, k)
	if err != nil {
		return err
	}
	changed := false
	for _, n := range names {
		changed = l.merge(n.Name, n.First, n.Last, maxStrings) || changed
	}
	if !changed {
		return nil
	}
	return b.Put(k, seal(k, l.encode()))
}

// putAnswers merges the delta's DNS answers into the file.
func putAnswers(tx *bolt.Tx, answers []baseline.Answer) error {
	if len(answers) == 0 {
		return nil
	}
	byName := map[string][]baseline.Answer{}
	for _, a := range answers {
		byName[a.Name] = append(byName[a.Name], a)
	}
	b := tx.Bucket(bucketAnswers)
	for name, as := range byName {
		k := []byte(name)
		l, err := getTimed(b, k)
		if err != nil {
			return err
		}
		changed := false
		for _, a := range as {
			changed = l.merge(string(a.Addr.Unmap().AsSlice()), a.First, a.Last, maxAddrs) || changed
		}
		if changed {
			if err := b.Put(k, seal(k, l.encode())); err != nil {
				return err
			}
		}
	}
	return nil
}

// windowNames returns the names of an edge seen in [from, to), unix ms,
// sorted.
func windowNames(tx *bolt.Tx, id uint64, from, to int64) ([]string, error) {
	l, err := getTimed(tx.Bucket(bucketNames), idKey(id))
	if err != nil {
		return nil, err
	}
	return l.overlapping(from, to), nil
}

// windowResolved returns, per name answered in [from, to), unix ms, the
// addresses it resolved to then, sorted.
func windowResolved(tx *bolt.Tx, from, to int64) (map[string][]netip.Addr, error) {
	b := tx.Bucket(bucketAnswers)
	if b == nil {
		return nil, nil
	}
	var out map[string][]netip.Addr
	err := b.ForEach(func(k, v []byte) error {
		l, err := unsealTimed(k, v)
		if err != nil {
			return err
		}
		var addrs []netip.Addr
		for _, raw := range l.overlapping(from, to) {
			a, ok := netip.AddrFromSlice([]byte(raw))
			if !ok {
				return fmt.Errorf("%w: answer of %q: %d address bytes", ErrCorrupt, k, len(raw))
			}
			addrs = append(addrs, a)
		}
		if len(addrs) > 0 {
			if out == nil {
				out = map[string][]netip.Addr{}
			}
			slices.SortFunc(addrs, netip.Addr.Compare)
			out[string(k)] = addrs
		}
		return nil
	})
	return out, err
}

// pruneTimed drops the entries last seen before cut (unix seconds) from
// every list of a bucket, and lists left empty.
func pruneTimed(b *bolt.Bucket, cut int64) error {
	if b == nil {
		return nil
	}
	type put struct {
		k []byte
		l timedList
	}
	var puts []put
	err := b.ForEach(func(k, v []byte) error {
		l, err := unsealTimed(k, v)
		if err != nil {
			return err
		}
		kept := slices.DeleteFunc(slices.Clone(l), func(e timed) bool { return e.last < cut*1000 })
		if len(kept) != len(l) {
			puts = append(puts, put{bytes.Clone(k), kept})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range puts {
		if len(p.l) == 0 {
			err = b.Delete(p.k)
		} else {
			err = b.Put(p.k, seal(p.k, p.l.encode()))
		}
		if err != nil {
			return err
		}
	}
	return nil
}
