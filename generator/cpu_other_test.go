//go:build !unix

package generator_test

import "time"

// cpuTime is not measured here: the benchmarks report it as zero.
func cpuTime() time.Duration { return 0 }
