package flow

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzReader checks that no input panics the reader, that every error names
// a line, and that what it accepts survives a write and a re-read unchanged.
func FuzzReader(f *testing.F) {
	f.Add([]byte(`{"time":"2026-11-22T10:00:00.123Z","node":"node-a","proto":"TCP","src_ip":"10.244.1.12","src_port":43122,"dst_ip":"10.96.14.3","dst_port":7070,"observer":"client"}`))
	f.Add([]byte(`{"time":"2026-11-22T10:00:00Z","proto":"UDP","src_ip":"fd00::1","dst_ip":"fd00::53","dst_port":53,"observer":"server","count":2,"comm":"x"}` + "\n\n{}"))
	f.Add([]byte(`{"time":"2026-11-22T10:00:02Z","proto":"UDP","src_ip":"10.0.0.1","src_port":40000,"dst_ip":"10.96.0.10","dst_port":53,"observer":"client","count":0,"dns":{"name":"api.example.com","answers":["203.0.113.5","::ffff:1.2.3.4","2001:db8::5"],"ttl":60}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), "fuzz")
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				var le *LineError
				if !errors.As(err, &le) || le.Line < 1 {
					t.Fatalf("error without a line: %v", err)
				}
				return
			}
			if back := time.Unix(0, rec.Time.UnixNano()); !back.Equal(rec.Time) {
				t.Fatalf("accepted %v, which UnixNano cannot hold", rec.Time)
			}
			checkRoundTrip(t, rec)
		}
	})
}

func checkRoundTrip(t *testing.T, rec *Record) {
	t.Helper()
	want := *rec
	line := AppendJSON(nil, &want)
	got, err := NewReader(bytes.NewReader(line), "rt").Next()
	if err != nil {
		t.Fatalf("re-read %s: %v", line, err)
	}
	if !got.Time.Equal(want.Time) {
		t.Fatalf("time %v became %v", want.Time, got.Time)
	}
	got.Time = want.Time
	if !validUTF8Fields(&want) {
		return // invalid UTF-8 is replaced on the way out
	}
	if !got.Equal(&want) {
		t.Fatalf("round trip changed the record:\n got %+v\nwant %+v", *got, want)
	}
}

func validUTF8Fields(r *Record) bool {
	return utf8.ValidString(r.Node) && utf8.ValidString(r.Comm) && utf8.ValidString(r.PodUID) && (r.DNS == nil || utf8.ValidString(r.DNS.Name))
}
