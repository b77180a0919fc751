package boltdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"net/netip"
)

var errShort = errors.New("value ends early")

var errShortBlock = fmt.Errorf("%w: bad block", ErrCorrupt)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// seal appends the CRC-32C of key and value to value.
func seal(key, value []byte) []byte {
	sum := crc32.Update(crc32.Checksum(key, castagnoli), castagnoli, value)
	return binary.BigEndian.AppendUint32(value, sum)
}

// open checks a sealed value's checksum and returns its content.
func unseal(key, v []byte) ([]byte, error) {
	if len(v) < 4 {
		return nil, fmt.Errorf("%w: value of key %x is %d bytes", ErrCorrupt, key, len(v))
	}
	body := v[:len(v)-4]
	want := binary.BigEndian.Uint32(v[len(v)-4:])
	if got := crc32.Update(crc32.Checksum(key, castagnoli), castagnoli, body); got != want {
		return nil, fmt.Errorf("%w: checksum of key %x", ErrCorrupt, key)
	}
	return body, nil
}

// decoder reads a binary value; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail("%w", errShort)
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uint16() uint16 {
	if len(d.b) < 2 {
		d.fail("%w", errShort)
		return 0
	}
	v := binary.BigEndian.Uint16(d.b)
	d.b = d.b[2:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(n uint64) []byte {
	if uint64(len(d.b)) < n {
		d.fail("%w", errShort)
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string { return string(d.bytes(d.uvarint())) }

func (d *decoder) addr() netip.Addr {
	n := d.byte()
	if n == 0 {
		return netip.Addr{}
	}
	if n != 4 && n != 16 {
		d.fail("address of %d bytes", n)
		return netip.Addr{}
	}
	a, _ := netip.AddrFromSlice(d.bytes(uint64(n)))
	return a
}

// count reads a length that cannot exceed what is left of the value.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail("count %d past the value's end", n)
		return 0
	}
	return int(n)
}

func (d *decoder) done() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d bytes left over", len(d.b))
	}
	return d.err
}
