package baseline

import (
	"fmt"
	"strings"
	"time"

	"github.com/flowpol/flowpol/internal/duration"
)

// DefaultRetention is minute buckets for two days, then hourly ones for 90
// days, then nothing: "1m:48h,1h:90d".
func DefaultRetention() Retention {
	return Retention{{Bucket: time.Minute, Keep: 48 * time.Hour}, {Bucket: time.Hour, Keep: 90 * duration.Day}}
}

// ParseRetention reads tiers written as "WIDTH:KEEP,WIDTH:KEEP" finest
// first, durations in days and weeks too ("1m:48h,1h:12w"). "all" keeps
// everything in minute buckets; a last tier without ":KEEP" (or with
// ":all") keeps its buckets for ever.
func ParseRetention(s string) (Retention, error) {
	if strings.TrimSpace(s) == "all" {
		return Retention{{Bucket: time.Minute}}, nil
	}
	var r Retention
	for _, part := range strings.Split(s, ",") {
		t, err := parseTier(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("retention %q: %w", s, err)
		}
		r = append(r, t)
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("retention %q: %w", s, err)
	}
	return r, nil
}

func parseTier(s string) (Tier, error) {
	width, keep, hasKeep := strings.Cut(s, ":")
	b, err := duration.Parse(width)
	if err != nil {
		return Tier{}, fmt.Errorf("%w: bucket width: %w", ErrRetention, err)
	}
	t := Tier{Bucket: b}
	if hasKeep && keep != "all" {
		if t.Keep, err = duration.Parse(keep); err != nil {
			return Tier{}, fmt.Errorf("%w: keep: %w", ErrRetention, err)
		}
		if t.Keep <= 0 {
			return Tier{}, fmt.Errorf("%w: keep %s is not positive", ErrRetention, keep)
		}
	}
	return t, nil
}

// Validate checks that the tiers can be kept: at least one; widths whole
// seconds, increasing, each a multiple of the one before; keeps
// increasing, each at least its tier's width and a multiple of the next
// tier's width; only the last may keep for ever.
func (r Retention) Validate() error {
	if len(r) == 0 {
		return fmt.Errorf("%w: no tiers", ErrRetention)
	}
	for i, t := range r {
		if err := r.validateTier(i, t); err != nil {
			return err
		}
	}
	return nil
}

func (r Retention) validateTier(i int, t Tier) error {
	switch {
	case t.Bucket < time.Second || t.Bucket%time.Second != 0:
		return fmt.Errorf("%w: bucket width %v is not a whole number of seconds", ErrRetention, t.Bucket)
	case t.Keep < 0:
		return fmt.Errorf("%w: keep %v is negative", ErrRetention, t.Keep)
	case t.Keep == 0 && i < len(r)-1:
		return fmt.Errorf("%w: tier %s keeps for ever but is not the last", ErrRetention, t.Bucket)
	case t.Keep != 0 && t.Keep < t.Bucket:
		return fmt.Errorf("%w: tier %s keeps %s, less than one bucket", ErrRetention, t.Bucket, t.Keep)
	}
	if i == 0 {
		return nil
	}
	prev := r[i-1]
	switch {
	case t.Bucket <= prev.Bucket || t.Bucket%prev.Bucket != 0:
		return fmt.Errorf("%w: width %s is not a larger multiple of %s", ErrRetention, duration.Format(t.Bucket), duration.Format(prev.Bucket))
	case t.Keep != 0 && t.Keep <= prev.Keep:
		return fmt.Errorf("%w: tier %s keeps %s, not longer than the tier before", ErrRetention, duration.Format(t.Bucket), duration.Format(t.Keep))
	case prev.Keep%t.Bucket != 0:
		return fmt.Errorf("%w: keep %s is not a multiple of the next width %s", ErrRetention, duration.Format(prev.Keep), duration.Format(t.Bucket))
	}
	return nil
}

// String writes the tiers as ParseRetention reads them.
func (r Retention) String() string {
	if len(r) == 1 && r[0].Bucket == time.Minute && r[0].Keep == 0 {
		return "all"
	}
	parts := make([]string, len(r))
	for i, t := range r {
		parts[i] = duration.Format(t.Bucket) + ":" + KeepString(t.Keep)
	}
	return strings.Join(parts, ",")
}

// KeepString writes how long a tier keeps its buckets: "all" for ever.
func KeepString(keep time.Duration) string {
	if keep == 0 {
		return "all"
	}
	return duration.Format(keep)
}
