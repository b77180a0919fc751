package baseline

import (
	"errors"
	"testing"
	"time"
)

// TestParseRetention: tiers are read with days and weeks, written back the
// same way, and tiers that cannot be kept are refused. If it failed, a
// --retain flag would keep something other than what it says.
func TestParseRetention(t *testing.T) {
	tests := []struct {
		in   string
		want Retention
		text string // String(); empty when in is refused
	}{
		{"1m:48h,1h:90d", Retention{{time.Minute, 48 * time.Hour}, {time.Hour, 90 * 24 * time.Hour}}, "1m:48h,1h:90d"},
		{"all", Retention{{Bucket: time.Minute}}, "all"},
		{"1h:12w", Retention{{time.Hour, 84 * 24 * time.Hour}}, "1h:84d"},
		{"1m:2d, 1h:4w, 1d", Retention{{time.Minute, 48 * time.Hour}, {time.Hour, 28 * 24 * time.Hour}, {Bucket: 24 * time.Hour}}, "1m:48h,1h:28d,24h:all"},
		{"30s:1h,1m:all", Retention{{30 * time.Second, time.Hour}, {Bucket: time.Minute}}, "30s:1h,1m:all"},
		{"", nil, ""},
		{"1h:48h,1m:90d", nil, ""},  // widths decrease
		{"1m:48h,90s:90d", nil, ""}, // not a multiple
		{"1m:48h,1h:24h", nil, ""},  // keeps do not increase
		{"1m,1h:90d", nil, ""},      // for ever, not last
		{"1m:30s", nil, ""},         // keeps less than a bucket
		{"1m:90s,1h:1d", nil, ""},   // keep not a multiple of the next width
		{"500ms:1h", nil, ""},       // not whole seconds
		{"1m:-1h", nil, ""},         // negative
		{"1x:1h", nil, ""},          // no such unit
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRetention(tt.in)
			if tt.text == "" {
				if err == nil || !errors.Is(err, ErrRetention) {
					t.Fatalf("ParseRetention(%q) = %v, %v; want an ErrRetention", tt.in, got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("tier %d: %v, want %v", i, got[i], tt.want[i])
				}
			}
			if got.String() != tt.text {
				t.Errorf("String() = %q, want %q", got.String(), tt.text)
			}
			if again, err := ParseRetention(got.String()); err != nil || again.String() != tt.text {
				t.Errorf("String() does not read back: %v, %v", again, err)
			}
		})
	}
}
