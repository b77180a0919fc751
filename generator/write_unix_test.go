//go:build unix

package generator

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
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

// TestWriteAtomicUnchanged fails if writing what a file already holds
// replaces it (a new inode, a new time), or if a file that differs, in
// its bytes or its mode, is left as it was. Rewriting a directory of
// policies would otherwise touch every file when few changed, or keep a
// file that is wrong.
func TestWriteAtomicUnchanged(t *testing.T) {
	tests := []struct {
		name     string
		old      string
		mode     os.FileMode
		replaced bool
	}{
		{"same bytes", "rules", 0o644, false},
		{"other bytes, same length", "ruler", 0o644, true},
		{"longer", "rules!", 0o644, true},
		{"same bytes, other mode", "rules", 0o600, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "p.yaml")
			if err := os.WriteFile(path, []byte(tt.old), tt.mode); err != nil {
				t.Fatal(err)
			}
			long := time.Now().Add(-time.Hour).Truncate(time.Second)
			if err := os.Chtimes(path, long, long); err != nil {
				t.Fatal(err)
			}
			before, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := WriteAtomic(path, []byte("rules")); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != "rules" || fi.Mode().Perm() != 0o644 {
				t.Errorf("holds %q, mode %v; want %q, 0644", data, fi.Mode().Perm(), "rules")
			}
			replaced := !os.SameFile(before, fi) || !fi.ModTime().Equal(long)
			if replaced != tt.replaced {
				t.Errorf("replaced: %v, want %v", replaced, tt.replaced)
			}
		})
	}
}
