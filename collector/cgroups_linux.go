//go:build linux && (386 || amd64 || arm64)

package collector

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func defaultCgroupRoot() string {
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup/unified", &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "/sys/fs/cgroup/unified"
	}
	return "/sys/fs/cgroup"
}

// fileidKernfs is the file handle type of a kernfs node, whose handle is
// its 64-bit id: a cgroup2 directory opens by its cgroup id.
const fileidKernfs = 0xfe

// cgroupPaths maps cgroup ids to their paths under the cgroup2 root, and to
// the network namespace of a process in them. A cgroup is opened by its id
// (a kernfs file handle); where that is refused, the tree is scanned, at
// most ten times a second. Cgroup ids are never reused, so what is found
// stays true after the cgroup is gone.
type cgroupPaths struct {
	root     string
	mu       sync.Mutex
	paths    map[uint64]string
	netns    map[uint64]uint32
	lastScan time.Time
}

func newCgroupPaths(root string) *cgroupPaths {
	return &cgroupPaths{root: root, paths: map[uint64]string{}, netns: map[uint64]uint32{}}
}

// path returns the cgroup's path relative to the root.
func (c *cgroupPaths) path(id uint64) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.paths[id]; ok {
		return p, true
	}
	if p, err := c.byHandle(id); err == nil {
		c.paths[id] = p
		return p, true
	}
	if time.Since(c.lastScan) >= 100*time.Millisecond {
		c.scan()
	}
	p, ok := c.paths[id]
	return p, ok
}

// byHandle opens the cgroup by its id and reads back its path.
func (c *cgroupPaths) byHandle(id uint64) (string, error) {
	mount, err := unix.Open(c.root, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return "", err
	}
	defer closeFD(mount)
	h := unix.NewFileHandle(fileidKernfs, binary.NativeEndian.AppendUint64(nil, id))
	fd, err := unix.OpenByHandleAt(mount, h, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return "", err
	}
	defer closeFD(fd)
	abs, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
	if err != nil {
		return "", err
	}
	rel, ok := strings.CutPrefix(abs, c.root)
	if !ok {
		return "", fmt.Errorf("cgroup %d is at %s, outside %s", id, abs, c.root)
	}
	return "/" + strings.TrimPrefix(rel, "/"), nil
}

// closeFD closes a descriptor opened read-only: its close loses nothing.
func closeFD(fd int) { _ = unix.Close(fd) }

// scan maps every cgroup's inode to its path. A cgroup removed while
// walking is no error: the callback passes every error over, so the walk
// returns none.
func (c *cgroupPaths) scan() {
	c.lastScan = time.Now()
	_ = filepath.WalkDir(c.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil // a cgroup removed while walking is no error
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			rel, _ := filepath.Rel(c.root, p) // p is under root
			c.paths[st.Ino] = "/" + filepath.ToSlash(rel)
		}
		return nil
	})
}

// noteNetns remembers a cgroup's network namespace, as the kernel reported
// it for a TCP connection.
func (c *cgroupPaths) noteNetns(id uint64, netns uint32) {
	c.mu.Lock()
	c.netns[id] = netns
	c.mu.Unlock()
}

// netnsOf returns the cgroup's network namespace: as noted, else that of a
// process in it, else 0 when it has none left.
func (c *cgroupPaths) netnsOf(id uint64) uint32 {
	c.mu.Lock()
	if ns, ok := c.netns[id]; ok {
		c.mu.Unlock()
		return ns
	}
	c.mu.Unlock()
	p, ok := c.path(id)
	if !ok {
		return 0
	}
	f, err := os.Open(filepath.Join(c.root, p, "cgroup.procs"))
	if err != nil {
		return 0
	}
	defer f.Close() //nolint:errcheck // read-only
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var st unix.Stat_t
		if unix.Stat("/proc/"+sc.Text()+"/ns/net", &st) == nil {
			c.mu.Lock()
			c.netns[id] = uint32(st.Ino)
			c.mu.Unlock()
			return uint32(st.Ino)
		}
	}
	return 0
}
