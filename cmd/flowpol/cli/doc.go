// Package cli is the flowpol command line: one cobra command per file, each
// with an options struct, its flags, and a run function that takes a
// context, the options and the streams it writes to.
package cli
