package agent

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/flowpol/flowpol/ingest/wire"
)

// SpoolOptions tunes OpenSpool.
type SpoolOptions struct {
	// Dir holds the spool; it is created when missing.
	Dir string
	// MaxBytes bounds the batches kept; zero means 256 MiB. When a new
	// batch does not fit, the oldest are dropped, and counted.
	MaxBytes int64
	// Node names the agent in a new spool's agent id; zero means the host
	// name.
	Node string
}

// Spool is a directory of sealed batches waiting to be shipped, oldest
// first. Each batch is a file written whole (a temporary file, synced and
// renamed), named by its sequence number and record count, so a crash
// leaves every batch whole or absent. The spool also keeps the agent's id
// and its next sequence number. It is safe for concurrent use.
type Spool struct {
	dir      string
	maxBytes int64
	agent    string

	mu    sync.Mutex
	next  uint64
	files []SpooledBatch // oldest first
	bytes int64
	wake  chan struct{}
}

// SpooledBatch is a batch in the spool.
type SpooledBatch struct {
	Seq     uint64
	Records int
	Size    int64
}

func (b SpooledBatch) name() string { return fmt.Sprintf("%020d-%d.batch", b.Seq, b.Records) }

const (
	agentFile = "agent-id"
	seqFile   = "next-seq"
)

// OpenSpool opens or creates the spool in opts.Dir, removing what a crash
// left half-written.
func OpenSpool(opts SpoolOptions) (*Spool, error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 256 << 20
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool %s: %w", opts.Dir, err)
	}
	s := &Spool{dir: opts.Dir, maxBytes: opts.MaxBytes, next: 1, wake: make(chan struct{}, 1)}
	var err error
	if s.agent, err = s.agentID(opts.Node); err != nil {
		return nil, fmt.Errorf("spool %s: %w", opts.Dir, err)
	}
	if err := s.scan(); err != nil {
		return nil, fmt.Errorf("spool %s: %w", opts.Dir, err)
	}
	return s, nil
}

// agentID reads the spool's agent id, or makes one: the node's name and a
// random suffix, so that a new spool never reuses an old one's numbers.
func (s *Spool) agentID(node string) (string, error) {
	path := filepath.Join(s.dir, agentFile)
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if node == "" {
		node, _ = os.Hostname()
	}
	suffix := make([]byte, 6)
	if _, err := rand.Read(suffix); err != nil {
		return "", fmt.Errorf("agent id: %w", err)
	}
	id := node + "-" + hex.EncodeToString(suffix)
	return id, writeFileSync(path, []byte(id+"\n"))
}

// scan lists the spooled batches and finds the next sequence number.
func (s *Spool) scan() error {
	if err := s.readNext(); err != nil {
		return err
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".tmp") { // half-written before a crash
			if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			continue
		}
		b, ok := parseSpoolName(name)
		if !ok {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		b.Size = info.Size()
		s.files = append(s.files, b)
		s.bytes += b.Size
		s.next = max(s.next, b.Seq+1)
	}
	sort.Slice(s.files, func(i, j int) bool { return s.files[i].Seq < s.files[j].Seq })
	return nil
}

// readNext reads the next sequence number, when the spool has one. One
// that cannot be read is an error: guessing could number new batches as
// old ones, which the aggregator would take for duplicates and drop.
func (s *Spool) readNext() error {
	path := filepath.Join(s.dir, seqFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n == 0 {
		return fmt.Errorf("%s: %q is not a sequence number; remove the spool directory to start a new agent id", path, strings.TrimSpace(string(b)))
	}
	s.next = n
	return nil
}

func parseSpoolName(name string) (SpooledBatch, bool) {
	base, ok := strings.CutSuffix(name, ".batch")
	if !ok {
		return SpooledBatch{}, false
	}
	seqS, recS, ok := strings.Cut(base, "-")
	seq, err1 := strconv.ParseUint(seqS, 10, 64)
	recs, err2 := strconv.Atoi(recS)
	if !ok || err1 != nil || err2 != nil || seq == 0 {
		return SpooledBatch{}, false
	}
	return SpooledBatch{Seq: seq, Records: recs}, true
}

// NextSeq is the sequence number the next batch Put will take.
func (s *Spool) NextSeq() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next
}

// Agent returns the spool's agent id.
func (s *Spool) Agent() string { return s.agent }

// Put numbers b (Agent and Seq), encodes it and writes it to the spool,
// dropping the oldest batches when it would not fit; it returns how many
// records were dropped.
func (s *Spool) Put(b *wire.Batch) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b.Agent, b.Seq = s.agent, s.next
	data, err := wire.AppendBatch(nil, b)
	if err != nil {
		return 0, err
	}
	if int64(len(data)) > s.maxBytes {
		return 0, fmt.Errorf("spool %s: a batch of %d bytes is larger than the spool (%d bytes)", s.dir, len(data), s.maxBytes)
	}
	dropped, err := s.makeRoom(int64(len(data)))
	if err != nil {
		return dropped, err
	}
	sb := SpooledBatch{Seq: b.Seq, Records: len(b.Records), Size: int64(len(data))}
	if err := writeFileSync(filepath.Join(s.dir, sb.name()), data); err != nil {
		return dropped, fmt.Errorf("spool batch %d: %w", b.Seq, err)
	}
	s.next++
	if err := writeFileSync(filepath.Join(s.dir, seqFile), []byte(strconv.FormatUint(s.next, 10)+"\n")); err != nil {
		return dropped, fmt.Errorf("spool %s: %w", s.dir, err)
	}
	s.files = append(s.files, sb)
	s.bytes += sb.Size
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return dropped, nil
}

// makeRoom drops the oldest batches until size more bytes fit.
func (s *Spool) makeRoom(size int64) (int, error) {
	dropped := 0
	for len(s.files) > 0 && s.bytes+size > s.maxBytes {
		old := s.files[0]
		if err := os.Remove(filepath.Join(s.dir, old.name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return dropped, fmt.Errorf("spool %s: drop batch %d: %w", s.dir, old.Seq, err)
		}
		s.files = s.files[1:]
		s.bytes -= old.Size
		dropped += old.Records
	}
	return dropped, nil
}

// Oldest returns the oldest batch, if any.
func (s *Spool) Oldest() (SpooledBatch, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.files) == 0 {
		return SpooledBatch{}, false
	}
	return s.files[0], true
}

// Read returns a spooled batch's encoding. A batch dropped meanwhile gives
// an error wrapping fs.ErrNotExist.
func (s *Spool) Read(b SpooledBatch) ([]byte, error) {
	return os.ReadFile(filepath.Join(s.dir, b.name()))
}

// Remove removes a batch that was shipped or refused.
func (s *Spool) Remove(b SpooledBatch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.Remove(filepath.Join(s.dir, b.name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("spool %s: remove batch %d: %w", s.dir, b.Seq, err)
	}
	for i, f := range s.files {
		if f.Seq == b.Seq {
			s.files = append(s.files[:i], s.files[i+1:]...)
			s.bytes -= f.Size
			break
		}
	}
	return nil
}

// Len returns how many batches and bytes the spool holds.
func (s *Spool) Len() (batches int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.files), s.bytes
}

// Wake receives after each Put.
func (s *Spool) Wake() <-chan struct{} { return s.wake }

// writeFileSync writes a file whole: a temporary file, synced, renamed over
// path, and the directory synced.
func writeFileSync(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		if rerr := os.Remove(tmp); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}
