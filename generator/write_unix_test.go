//go:build unix

package generator

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWriteAtomicKeepsSpecialFiles fails if writing to a path that is not
// a regular file replaces it, as a rename over it would: `-o /dev/null`
// run as root would then leave the machine without its /dev/null. A named
// pipe stands in for the device.
func TestWriteAtomicKeepsSpecialFiles(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- err.Error()
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- string(b)
	}()
	if err := WriteAtomic(fifo, []byte("rules")); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "rules" {
		t.Errorf("the pipe's reader got %q, want %q", s, "rules")
	}
	fi, err := os.Lstat(fifo)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("%s is now %v, not the named pipe it was", fifo, fi.Mode())
	}
}
