// Package boltdb is the embedded baseline.Store: one bbolt file, schema 3.
//
// Basics. Open takes the file's lock (an error wrapping ErrLocked after
// Options.Timeout, never a hang) and checks, before bbolt maps the file,
// that its length holds every page its meta pages name. Edges are keyed
// by a binary encoding of their ends (kind and identity; an unresolved end
// by address and reason number), mapped to a compact id. Counts are kept
// per tier of the file's retention in blocks: one value per edge per block
// of cells (a block spans one bucket of the next tier, so a rollup turns a
// block into one coarser cell), holding which cells are set, their client
// and server counts as varints (and, when any cell has some, the client
// connections a split estimated), and the block's exact first and
// last moments seen. Every value carries a CRC-32C of its key and content,
// checked on every read. Additions saturate at 2^64-1. A tier is cut one
// block of the next tier at a time, so rolled-up blocks are written whole. Apply runs
// retention itself when it is due, at most once per finest bucket width of
// data time, in the same transaction. A file much of whose pages are free
// after retention is compacted: copied into a fresh file that is renamed
// over it. A schema-1 file is migrated in place on open, its original kept
// beside it as FILE.v1.bak; a schema-2 file (schema 3 without estimates)
// by a writable open, kept as FILE.v2.bak, and read as it is by a
// read-only one.
//
// Caveats. A window that cuts a block (rather than ending on a block's
// edge) reports first and last seen in it to the start of the cell they
// fall in, unless the block's exact moments lie inside the window. The
// Store is safe for concurrent use; its methods are transactions, and
// Compact blocks writers while it swaps the file. Values it returns belong
// to the caller. It needs no privileges beyond the file.
package boltdb
