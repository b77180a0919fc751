package yamlline

import "bytes"

// Find returns the line, from 1, of the first prefix of body, in whole
// lines, that fails as body fails: fails reports whether a text fails so.
// It returns 0 when no prefix short of the whole body does, or body does
// not fail. The search halves the lines, so it asks fails about
// log2(lines) prefixes.
func Find(body []byte, fails func([]byte) bool) int {
	ends := lineEnds(body)
	if len(ends) == 0 || !fails(body) {
		return 0
	}
	lo, hi := 0, len(ends)-1 // the first failing prefix ends at a line in [lo, hi]
	for lo < hi {
		mid := (lo + hi) / 2
		if fails(body[:ends[mid]]) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo + 1
}

// lineEnds returns the offset just past each line of body.
func lineEnds(body []byte) []int {
	var ends []int
	off := 0
	for line := range bytes.Lines(body) {
		off += len(line)
		ends = append(ends, off)
	}
	return ends
}
