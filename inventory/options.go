package inventory

import (
	"bufio"
	"fmt"
	"io"
	"os"
)

// Options bound what Load reads. The zero value reads up to 1 GiB, an
// object of up to 16 MiB.
type Options struct {
	// MaxBytes is the most the whole input may hold; zero means 1 GiB.
	MaxBytes int64
	// MaxObjectBytes is the most one object, one List item or one line may
	// hold (a List's items count one by one, not together); zero means
	// 16 MiB.
	MaxObjectBytes int
}

func (o Options) withDefaults() Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = 1 << 30
	}
	if o.MaxObjectBytes <= 0 {
		o.MaxObjectBytes = 16 << 20
	}
	return o
}

// Load reads a whole dump from r, as a stream: memory follows what is
// kept, not the size of the text. name, usually the file's path, starts
// every error message: "cluster.yaml:12: items[3] (Pod shop/api-1): ...".
func (o Options) Load(r io.Reader, name string) (*Inventory, error) {
	o = o.withDefaults()
	in := newInput(r, name, o)
	inv := &Inventory{Skipped: map[string]int{}}
	var err error
	if in.startsJSON() {
		err = (&jsonStream{in: in, inv: inv}).run()
	} else {
		err = (&yamlStream{in: in, inv: inv}).run()
	}
	if err != nil {
		return nil, err
	}
	return inv, nil
}

// LoadFile opens path and loads it, with path as the name in errors.
func (o Options) LoadFile(path string) (*Inventory, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	inv, err := o.Load(f, path)
	if cerr := f.Close(); cerr != nil && err == nil {
		return nil, cerr
	}
	return inv, err
}

// input reads the text, counting lines and bytes, and refuses more than
// the options allow.
type input struct {
	name string
	opts Options
	r    *bufio.Reader
	n    int64 // bytes read
	line int   // the line of the next byte, from 1
	buf  []byte
}

func newInput(r io.Reader, name string, o Options) *input {
	lr := &limited{r: r, left: o.MaxBytes + 1}
	return &input{name: name, opts: o, r: bufio.NewReaderSize(lr, 64<<10), line: 1}
}

// limited reads at most left bytes, then reports EOF; input tells an
// input that reached the bound from one that ended by its size.
type limited struct {
	r    io.Reader
	left int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), l.left)]
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// fail places an error on a line.
func (in *input) fail(line int, err error) error {
	return &LineError{File: in.name, Line: line, Err: err}
}

func (in *input) tooLarge() error {
	return in.fail(in.line, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, in.opts.MaxBytes))
}

func (in *input) objectTooLarge(line int) error {
	return in.fail(line, fmt.Errorf("%w: more than %d bytes", ErrObjectTooLarge, in.opts.MaxObjectBytes))
}

// readByte returns the next byte, or io.EOF.
func (in *input) readByte() (byte, error) {
	c, err := in.r.ReadByte()
	if err != nil {
		return 0, in.readErr(err)
	}
	in.n++
	if in.n > in.opts.MaxBytes {
		return 0, in.tooLarge()
	}
	if c == '\n' {
		in.line++
	}
	return c, nil
}

func (in *input) readErr(err error) error {
	if err == io.EOF {
		return io.EOF
	}
	return fmt.Errorf("read %s: %w", in.name, err)
}

// readLine returns the next line with its '\n', if it has one, valid
// until the next call; io.EOF after the last.
func (in *input) readLine() ([]byte, error) {
	in.buf = in.buf[:0]
	for {
		chunk, err := in.r.ReadSlice('\n')
		in.buf = append(in.buf, chunk...)
		in.n += int64(len(chunk))
		if in.n > in.opts.MaxBytes {
			return nil, in.tooLarge()
		}
		if len(in.buf) > in.opts.MaxObjectBytes {
			return nil, in.fail(in.line, fmt.Errorf("%w: a line of more than %d bytes", ErrObjectTooLarge, in.opts.MaxObjectBytes))
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(in.buf) > 0:
			in.line++
			return in.buf, nil
		case err != nil:
			return nil, in.readErr(err)
		}
		in.line++
		return in.buf, nil
	}
}

// startsJSON reports whether the first byte that is not white space opens
// a JSON object or array.
func (in *input) startsJSON() bool {
	for i := 1; ; i++ {
		b, err := in.r.Peek(i)
		if len(b) < i || err != nil {
			return false
		}
		switch b[i-1] {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[':
			return true
		}
		return false
	}
}
