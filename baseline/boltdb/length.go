package boltdb

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// bbolt's meta page, as laid out on disk (little-endian): a 16-byte page
// header, then magic, version, page size, flags (4 bytes each), the root
// bucket (16), the freelist page, the high-water page id and the
// transaction id (8 each), then an FNV-64a checksum of what precedes it.
const (
	boltMagic      = 0xED0CDAED
	pageHeaderSize = 16
	metaSize       = 64
)

// boltMeta is what checkLength needs of a meta page.
type boltMeta struct {
	pageSize uint32
	pgid     uint64
	txid     uint64
}

// checkLength reads the file's two meta pages and refuses a file shorter
// than the pages the newer valid one says it holds: bbolt would read past
// its end, a fault no error can report. A file with no valid meta page is
// left to bbolt to refuse.
func checkLength(path string, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close() //nolint:errcheck // read only
	m0, ok0 := readMeta(f, 0)
	var m1 boltMeta
	ok1 := false
	if ok0 {
		m1, ok1 = readMeta(f, int64(m0.pageSize))
	} else {
		for _, ps := range []int64{4096, 8192, 16384, 65536} {
			if m1, ok1 = readMeta(f, ps); ok1 && int64(m1.pageSize) == ps {
				break
			}
			ok1 = false
		}
	}
	m := m0
	if !ok0 || (ok1 && m1.txid > m0.txid) {
		m = m1
	}
	if !ok0 && !ok1 {
		return nil
	}
	if need := int64(m.pgid) * int64(m.pageSize); size < need {
		return fmt.Errorf("%s is truncated: %d bytes, the baseline needs %d: %w", path, size, need, ErrTruncated)
	}
	return nil
}

// readMeta reads a meta page at off and says whether it is valid.
func readMeta(f io.ReaderAt, off int64) (boltMeta, bool) {
	var p [pageHeaderSize + metaSize]byte
	if _, err := f.ReadAt(p[:], off); err != nil {
		return boltMeta{}, false
	}
	m := p[pageHeaderSize:]
	h := fnv.New64a()
	h.Write(m[:56])
	le := binary.LittleEndian
	if le.Uint32(m[0:]) != boltMagic || le.Uint64(m[56:]) != h.Sum64() || le.Uint32(m[8:]) < 512 {
		return boltMeta{}, false
	}
	return boltMeta{pageSize: le.Uint32(m[8:]), pgid: le.Uint64(m[40:]), txid: le.Uint64(m[48:])}, true
}
