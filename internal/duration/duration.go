// Package duration reads and writes durations as people write them for
// baselines: Go's units (ns, us, ms, s, m, h) and days (d, 24 h) and weeks
// (w, 7 d), as in "7d", "1h:12w" or "1w2d3h".
package duration

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

const (
	// Day is 24 hours.
	Day = 24 * time.Hour
	// Week is 7 days.
	Week = 7 * Day
)

// Parse reads a duration: what time.ParseDuration reads, with d and w
// allowed as units.
func Parse(s string) (time.Duration, error) {
	neg := strings.HasPrefix(s, "-")
	rest := strings.TrimLeft(s, "+-")
	var total time.Duration
	for rest != "" {
		i := strings.IndexAny(rest, "dw")
		if i < 0 {
			if strings.ContainsAny(rest, "+-") {
				return 0, fmt.Errorf("duration %q: a sign inside", s)
			}
			d, err := time.ParseDuration(rest)
			if err != nil {
				return 0, fmt.Errorf("duration %q: %w", s, err)
			}
			total += d
			break
		}
		n, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil || rest[:i] == "" || strings.ContainsAny(rest[:i], "+-eE") {
			return 0, fmt.Errorf("duration %q: bad number before %q", s, rest[i])
		}
		unit := Day
		if rest[i] == 'w' {
			unit = Week
		}
		total += time.Duration(n * float64(unit))
		rest = rest[i+1:]
	}
	if s == "" || s == "-" || s == "+" {
		return 0, fmt.Errorf("duration %q: empty", s)
	}
	if neg {
		total = -total
	}
	return total, nil
}

// Format writes a duration in one unit that divides it: days from three
// days on ("90d"), else hours, minutes or seconds ("48h", "1m", "30s");
// others as time.Duration writes them.
func Format(d time.Duration) string {
	units := []struct {
		unit time.Duration
		name string
	}{{Day, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}}
	if d == 0 {
		return "0s"
	}
	for _, u := range units {
		if u.unit == Day && d < 3*Day {
			continue
		}
		if d%u.unit == 0 {
			return strconv.FormatInt(int64(d/u.unit), 10) + u.name
		}
	}
	return d.String()
}

// Value is a duration flag that reads days and weeks (pflag.Value).
type Value struct{ D *time.Duration }

// NewValue returns a flag value that sets *d, with def as its default.
func NewValue(d *time.Duration, def time.Duration) Value {
	*d = def
	return Value{D: d}
}

// Set reads s.
func (v Value) Set(s string) error {
	d, err := Parse(s)
	if err != nil {
		return err
	}
	*v.D = d
	return nil
}

// String writes the duration.
func (v Value) String() string {
	if v.D == nil {
		return "0s"
	}
	return Format(*v.D)
}

// Type names the flag's type in help.
func (Value) Type() string { return "duration" }
