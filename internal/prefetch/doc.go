// Package prefetch asks the processor to bring memory into its caches
// ahead of its use: a loop over records that each touch memory found at
// random (a map's value, a struct behind a pointer) may fetch the next
// records' memory while it works on the current one's, where the
// processor alone would wait for one miss after another.
//
// A prefetch is a hint: it never faults, whatever the address, and
// changes nothing a program can read. Where the architecture has no
// prefetch instruction here, Range does nothing.
package prefetch
