package flow

import (
	"bufio"
	"encoding/json"
	"io"
	"strconv"
	"time"
)

// Writer writes records as JSON Lines, fields in a fixed order. Call Flush
// when done.
type Writer struct {
	w   *bufio.Writer
	buf []byte
}

// NewWriter writes records to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 64<<10)}
}

// Write writes one record; optional fields are left out when zero, and count
// when it is 1.
func (w *Writer) Write(r *Record) error {
	w.buf = AppendJSON(w.buf[:0], r)
	w.buf = append(w.buf, '\n')
	_, err := w.w.Write(w.buf)
	return err
}

// Flush writes out what is buffered.
func (w *Writer) Flush() error { return w.w.Flush() }

// AppendJSON appends r as one JSON object, without a newline.
func AppendJSON(b []byte, r *Record) []byte {
	b = append(b, `{"time":"`...)
	b = r.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","node":`...)
	b = appendString(b, r.Node)
	b = append(b, `,"proto":"`...)
	b = append(b, r.Proto.String()...)
	b = append(b, `","src_ip":"`...)
	b = r.Src.Addr().AppendTo(b)
	b = append(b, `","src_port":`...)
	b = strconv.AppendUint(b, uint64(r.Src.Port()), 10)
	b = append(b, `,"dst_ip":"`...)
	b = r.Dst.Addr().AppendTo(b)
	b = append(b, `","dst_port":`...)
	b = strconv.AppendUint(b, uint64(r.Dst.Port()), 10)
	b = append(b, `,"observer":"`...)
	b = append(b, r.Observer.String()...)
	b = append(b, '"')
	if r.PID != 0 {
		b = append(b, `,"pid":`...)
		b = strconv.AppendUint(b, uint64(r.PID), 10)
	}
	if r.Comm != "" {
		b = append(b, `,"comm":`...)
		b = appendString(b, r.Comm)
	}
	if r.CgroupID != 0 {
		b = append(b, `,"cgroup_id":`...)
		b = strconv.AppendUint(b, r.CgroupID, 10)
	}
	if r.PodUID != "" {
		b = append(b, `,"pod_uid":`...)
		b = appendString(b, r.PodUID)
	}
	if r.ContainerID != "" {
		b = append(b, `,"container_id":`...)
		b = appendString(b, r.ContainerID)
	}
	if r.Netns != 0 {
		b = append(b, `,"netns":`...)
		b = strconv.AppendUint(b, uint64(r.Netns), 10)
	}
	if r.Count > 1 || (r.Count == 0 && r.DNS != nil) {
		b = append(b, `,"count":`...)
		b = strconv.AppendUint(b, r.Count, 10)
	}
	if r.DNS != nil {
		b = appendDNS(b, r.DNS)
	}
	return append(b, '}')
}

func appendDNS(b []byte, d *DNS) []byte {
	b = append(b, `,"dns":{"name":`...)
	b = appendString(b, d.Name)
	b = append(b, `,"answers":[`...)
	for i, a := range d.Answers {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = a.AppendTo(b)
		b = append(b, '"')
	}
	b = append(b, `],"ttl":`...)
	b = strconv.AppendUint(b, uint64(d.TTL), 10)
	return append(b, '}')
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
