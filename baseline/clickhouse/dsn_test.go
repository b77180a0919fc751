package clickhouse

import (
	"errors"
	"strings"
	"testing"
)

// The threads parameter sets max_threads: one unless given, zero for the
// server's own; anything else is a bad URL naming it. If it failed, the
// window queries would run with settings nobody asked for.
func TestDSNThreads(t *testing.T) {
	tests := []struct {
		name, url string
		want      int
		err       string
	}{
		{"default", "clickhouse://h:9000/db", 1, ""},
		{"given", "clickhouse://h:9000/db?threads=4", 4, ""},
		{"the server's", "clickhouse://h:9000/db?threads=0", 0, ""},
		{"negative", "clickhouse://h:9000/db?threads=-1", 0, `threads "-1"`},
		{"not a number", "clickhouse://h:9000/db?threads=many", 0, `threads "many"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := parseDSN(tc.url)
			if tc.err != "" {
				if !errors.Is(err, ErrURL) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want ErrURL naming %s", err, tc.err)
				}
				return
			}
			if err != nil || d.threads != tc.want {
				t.Errorf("threads %v, %v; want %d", d, err, tc.want)
			}
		})
	}
}
