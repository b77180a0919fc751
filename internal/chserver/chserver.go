package chserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNoServer says no clickhouse-server binary was found.
var ErrNoServer = errors.New("clickhouse-server is not installed (apt-get install clickhouse-server)")

// ClusterName is what the servers Start makes call their cluster in
// system.clusters.
const ClusterName = "flowpol_shards"

// Options tunes Start.
type Options struct {
	// Dir holds the servers' configuration, data and logs; required.
	Dir string
	// Shards is how many servers to start as shards of ClusterName; zero
	// means 1.
	Shards int
	// StartTimeout bounds the wait for a server to answer; zero means 60 s.
	StartTimeout time.Duration
}

// Server is one running clickhouse-server.
type Server struct {
	dir  string
	Port int // its native protocol port on 127.0.0.1
	cmd  *exec.Cmd
	wait chan struct{} // closed when the process ended
	exit error         // how it ended, once wait is closed
	opts Options
}

// CPUTime is the CPU time, user and system, the server used since it
// started: what a benchmark reads around its queries, where wall time on a
// shared machine says little.
func (s *Server) CPUTime() (time.Duration, error) {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0, errors.New("the server is not running")
	}
	return cpuTime(s.cmd.Process.Pid)
}

// Addr is the server's native protocol address.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// Binary finds clickhouse-server: /usr/sbin/clickhouse-server, or
// "clickhouse server" from a newer single-binary install.
func Binary() ([]string, error) {
	for _, p := range []string{"/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"} {
		if _, err := os.Stat(p); err == nil {
			return []string{p}, nil
		}
	}
	if p, err := exec.LookPath("clickhouse-server"); err == nil {
		return []string{p}, nil
	}
	if p, err := exec.LookPath("clickhouse"); err == nil {
		return []string{p, "server"}, nil
	}
	return nil, ErrNoServer
}

// Start starts opts.Shards servers and waits until each answers.
func Start(opts Options) ([]*Server, error) {
	if opts.Shards <= 0 {
		opts.Shards = 1
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 60 * time.Second
	}
	var out []*Server
	for i := range opts.Shards {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		out = append(out, &Server{dir: filepath.Join(opts.Dir, "shard"+strconv.Itoa(i)), Port: port, opts: opts})
	}
	for _, s := range out {
		if err := s.configure(out); err != nil {
			return nil, err
		}
	}
	for i, s := range out {
		if err := s.start(); err != nil {
			Stop(out[:i])
			return nil, err
		}
	}
	return out, nil
}

// Stop stops servers, gently, then by force.
func Stop(servers []*Server) {
	for _, s := range servers {
		s.stop(syscall.SIGTERM)
	}
}

// Kill ends the server at once (SIGKILL), as a crash would.
func (s *Server) Kill() { s.stop(syscall.SIGKILL) }

// Restart starts a stopped server again on its port and data.
func (s *Server) Restart() error { return s.start() }

func (s *Server) stop(sig syscall.Signal) {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(sig) // it may have ended already
	select {
	case <-s.wait:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill() // it ignored the signal
		<-s.wait
	}
	s.cmd = nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	return port, l.Close()
}

func (s *Server) start() error {
	bin, err := Binary()
	if err != nil {
		return err
	}
	args := append(bin[1:], "--config-file="+filepath.Join(s.dir, "config.xml"))
	cmd := exec.Command(bin[0], args...)
	log, err := os.OpenFile(filepath.Join(s.dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = dieWithParent()
	if err := cmd.Start(); err != nil {
		return errors.Join(fmt.Errorf("start %s: %w", bin[0], err), log.Close())
	}
	s.cmd, s.wait = cmd, make(chan struct{})
	go func() {
		s.exit = errors.Join(cmd.Wait(), log.Close())
		close(s.wait)
	}()
	return s.waitReady()
}

// waitReady waits until the server accepts connections.
func (s *Server) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.StartTimeout)
	defer cancel()
	for {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", s.Addr())
		if err == nil {
			return c.Close()
		}
		select {
		case <-s.wait:
			s.cmd = nil
			return fmt.Errorf("clickhouse-server in %s ended at start (%v): %s", s.dir, s.exit, s.logTail())
		case <-ctx.Done():
			return fmt.Errorf("clickhouse-server in %s does not answer on %s after %v: %s", s.dir, s.Addr(), s.opts.StartTimeout, s.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "err.log"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-5):], "\n")
}

func (s *Server) configure(all []*Server) error {
	for _, d := range []string{"data", "tmp", "user_files", "format_schemas"} {
		if err := os.MkdirAll(filepath.Join(s.dir, d), 0o700); err != nil {
			return err
		}
	}
	var shards strings.Builder
	for _, o := range all {
		fmt.Fprintf(&shards, "<shard><replica><host>127.0.0.1</host><port>%d</port></replica></shard>", o.Port)
	}
	config := fmt.Sprintf(configXML, s.dir, s.Port, ClusterName, shards.String())
	if err := os.WriteFile(filepath.Join(s.dir, "config.xml"), []byte(config), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(s.dir, "users.xml"), []byte(usersXML), 0o600)
}

// configXML is a server of its own: loopback only, small caches, the
// cluster's shards. Arguments: dir, port, cluster name, shards.
const configXML = `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>%[1]s/server.log</log><errorlog>%[1]s/err.log</errorlog><console>0</console></logger>
  <tcp_port>%[2]d</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>%[1]s/data/</path>
  <tmp_path>%[1]s/tmp/</tmp_path>
  <user_files_path>%[1]s/user_files/</user_files_path>
  <format_schema_path>%[1]s/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <max_concurrent_queries>64</max_concurrent_queries>
  <remote_servers><%[3]s>%[4]s</%[3]s></remote_servers>
</yandex>
`

const usersXML = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
`
