// Package openmap is a hash map whose lookups can be asked for ahead:
// open addressing with linear probing, at most half full, so that where a
// key's lookup begins is known without a lookup (Map.Prefetch). A loop
// over records that each look a key up at random may then ask for the
// next records' slots while it works on the current one's, where with a
// Go map it would wait for one miss after another.
//
// Keys hash themselves (Key); values are pointers, nil marking a free
// slot. Nothing is ever removed.
//
// Strings is such a map for string keys, such as pods' uids: its slots are
// keyed by the strings' hashes and its entries hold short strings in
// themselves, so that neither step of a lookup reads a string elsewhere,
// and both can be asked for ahead.
package openmap
