package duration

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{in: "3h", want: 3 * time.Hour},
		{in: "7d", want: 7 * Day},
		{in: "12w", want: 12 * Week},
		{in: "1w2d3h", want: Week + 2*Day + 3*time.Hour},
		{in: "1.5d", want: 36 * time.Hour},
		{in: "-2d", want: -2 * Day},
		{in: "90m", want: 90 * time.Minute},
		{in: "", err: true},
		{in: "d", err: true},
		{in: "7x", err: true},
		{in: "1d-2h", err: true},
		{in: "1e3d", err: true},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if (err != nil) != tt.err || got != tt.want {
				t.Fatalf("Parse(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	for d, want := range map[time.Duration]string{
		90 * Day: "90d", 2 * Week: "14d", 48 * time.Hour: "48h", 47 * time.Hour: "47h",
		time.Minute: "1m", 0: "0s", 1500 * time.Millisecond: "1.5s",
	} {
		if got := Format(d); got != want {
			t.Errorf("Format(%v) = %q, want %q", d, got, want)
		}
		if back, err := Parse(Format(d)); err != nil || back != d {
			t.Errorf("Parse(Format(%v)) = %v, %v", d, back, err)
		}
	}
}
