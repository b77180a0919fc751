package prefetch

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
	"unsafe"
)

// Range is only a hint: it reads and writes nothing a program sees, and
// never faults, not on nil, memory no longer mapped, or a range that wraps
// past the top of the address space.
func TestRangeIsAHint(t *testing.T) {
	buf := bytes.Repeat([]byte{0xa5}, 4096)
	want := bytes.Clone(buf)
	page, err := syscall.Mmap(-1, 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	gone := unsafe.Pointer(unsafe.SliceData(page))
	if err := syscall.Munmap(page); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		p    unsafe.Pointer
		n    uintptr
	}{
		{"nil", nil, 256},
		{"nothing", unsafe.Pointer(&buf[0]), 0},
		{"unaligned", unsafe.Pointer(&buf[3]), 130},
		{"a page", unsafe.Pointer(&buf[0]), uintptr(len(buf))},
		{"unmapped", gone, 4096},
		{"wrapping", unsafe.Pointer(&buf[0]), math.MaxUint64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			Range(tc.p, tc.n)
			if !bytes.Equal(buf, want) {
				t.Fatal("memory changed")
			}
		})
	}
}

// node is a cache line of a linked structure, as a map's value or a
// struct behind a pointer is.
type node struct {
	v   uint64
	pad [56]byte
}

// BenchmarkRange reads one word of each of 1,000,000 cache lines, in
// random order, and works on it a while (a chain of multiplications, as a
// record's parsing is) before it reads the next: the processor cannot
// reach the next line while it works. With ahead=k, the line k reads on is
// asked for first. Its ns/op is a line's.
func BenchmarkRange(b *testing.B) {
	nodes := make([]node, 1<<20) // 64 MiB, past the caches
	order := rand.Perm(len(nodes))
	for _, ahead := range []int{0, 2, 4, 8, 16} {
		b.Run(fmt.Sprintf("ahead=%d", ahead), func(b *testing.B) {
			h := uint64(1)
			for i := 0; b.Loop(); i++ {
				k := i % len(order)
				if ahead > 0 {
					Range(unsafe.Pointer(&nodes[order[(k+ahead)%len(order)]]), 8)
				}
				h += nodes[order[k]].v
				for range 64 {
					h = h*0x9e3779b97f4a7c15 + 1
				}
			}
			if h == 0 {
				b.Fatal(h)
			}
		})
	}
}
