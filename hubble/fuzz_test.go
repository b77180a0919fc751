package hubble_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/hubble"
)

// FuzzReader checks that no input panics the reader, that every error
// names a line, and that every record it gives is one the flow format
// takes back unchanged.
func FuzzReader(f *testing.F) {
	for _, line := range strings.Split(hubbleJSON(f), "\n") {
		f.Add([]byte(line))
	}
	f.Add([]byte(`{"flow":{"time":"2026-11-22T10:00:00Z"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rd := hubble.NewReader(bytes.NewReader(data), "fuzz", hubble.Options{})
		for {
			rec, err := rd.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				var le *flow.LineError
				if !errors.As(err, &le) || le.Line < 1 {
					t.Fatalf("error without a line: %v", err)
				}
				return
			}
			line := flow.AppendJSON(nil, rec)
			back, err := flow.NewReader(bytes.NewReader(line), "rt").Next()
			if err != nil {
				t.Fatalf("a record the flow format refuses: %s: %v", line, err)
			}
			back.Time = rec.Time
			if !back.Equal(rec) {
				t.Fatalf("record changed through the flow format:\n got %+v\nwant %+v", back, rec)
			}
		}
	})
}
