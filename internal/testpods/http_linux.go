//go:build linux

package testpods

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// RequireHTTPTools fails the test when nginx or wrk, which StartNginx and
// RunWrk run, is not installed.
func RequireHTTPTools(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"nginx", "wrk"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed: apt-get install nginx-light wrk (make bench installs them as root)", tool)
		}
	}
}

// StartNginx runs nginx in the pod on addr (host:port) until the test
// ends: two workers, answering every request with a few bytes and closing
// the connection.
func (p *Pod) StartNginx(t testing.TB, addr string) {
	t.Helper()
	dir := t.TempDir()
	conf := fmt.Sprintf(`daemon off;
worker_processes 2;
pid %[1]s/nginx.pid;
error_log stderr error;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	keepalive_timeout 0;
	server {
		listen %[2]s backlog=4096;
		location / { return 200 "ok\n"; }
	}
}
`, dir, addr)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := p.Command("nginx", "-p", dir, "-e", "stderr", "-c", path)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for range 100 {
		if _, err := os.Stat(filepath.Join(dir, "nginx.pid")); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nginx did not start on %s in pod %s", addr, p.Name)
}

var wrkRate = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)

// RunWrk runs wrk in the pod against url for d, two threads and 32
// connections, each request on a connection of its own (Connection:
// close), and returns the requests, and so the connections, per second.
// The pod's local port range is widened first.
func (p *Pod) RunWrk(t testing.TB, url string, d time.Duration) float64 {
	t.Helper()
	p.Run("sysctl", "-q", "-w", "net.ipv4.ip_local_port_range=1024 65000")
	out := p.Run("wrk", "-t", "2", "-c", "32", "-d", strconv.Itoa(int(d.Seconds()))+"s", "-H", "Connection: close", url)
	m := wrkRate.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("wrk in pod %s printed no rate:\n%s", p.Name, out)
	}
	rate, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return rate
}
