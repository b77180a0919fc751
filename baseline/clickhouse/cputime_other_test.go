//go:build !linux

package clickhouse

import "time"

// processCPU is not read where there is no getrusage of this shape.
func processCPU() (time.Duration, bool) { return 0, false }
