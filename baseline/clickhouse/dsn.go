package clickhouse

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// dsn is a parsed store URL:
//
//	clickhouse://[USER[:PASSWORD]@]HOST:PORT[,HOST:PORT...]/DATABASE?cluster=NAME&...
type dsn struct {
	addrs    []string
	database string
	user     string
	password string
	// cluster is the Kubernetes cluster read and written; empty means the
	// only one the store holds.
	cluster string
	// shards names the ClickHouse cluster (remote_servers) whose shards
	// hold the data behind Distributed tables; empty means one server.
	shards string
	// writer names this process among the store's writers; empty means
	// the host name.
	writer      string
	tls         *tls.Config
	dialTimeout time.Duration
	// threads is the max_threads of every statement; zero leaves the
	// server's.
	threads int
}

// parseDSN reads a clickhouse:// URL. Its query parameters: cluster,
// shards, writer, password_file, secure (true: TLS), ca_file,
// skip_verify, dial_timeout, threads.
func parseDSN(raw string) (*dsn, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrURL, err)
	}
	if u.Scheme != "clickhouse" || u.Host == "" {
		return nil, fmt.Errorf("%w: %s: want clickhouse://HOST:PORT/DATABASE", ErrURL, u.Redacted())
	}
	d := &dsn{addrs: strings.Split(u.Host, ","), database: strings.Trim(u.Path, "/"), user: "default", dialTimeout: 5 * time.Second, threads: 1}
	if d.database == "" {
		d.database = "flowpol"
	}
	if !validIdent(d.database) {
		return nil, fmt.Errorf("%w: database %q: letters, digits and _ only", ErrURL, d.database)
	}
	if u.User != nil {
		d.user = u.User.Username()
		d.password, _ = u.User.Password()
	}
	for _, a := range d.addrs {
		if !strings.Contains(a, ":") {
			return nil, fmt.Errorf("%w: %s: address %q has no port (the native protocol's is usually 9000)", ErrURL, u.Redacted(), a)
		}
	}
	if err := d.query(u.Query()); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrURL, u.Redacted(), err)
	}
	return d, nil
}

func (d *dsn) query(q url.Values) error {
	known := map[string]bool{"cluster": true, "shards": true, "writer": true, "password_file": true, "secure": true, "ca_file": true, "skip_verify": true, "dial_timeout": true, "threads": true}
	for k := range q {
		if !known[k] {
			return fmt.Errorf("unknown parameter %q", k)
		}
	}
	d.cluster, d.shards, d.writer = q.Get("cluster"), q.Get("shards"), q.Get("writer")
	if d.shards != "" && !validIdent(d.shards) {
		return fmt.Errorf("shards %q: letters, digits and _ only", d.shards)
	}
	if f := q.Get("password_file"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("password_file: %w", err)
		}
		d.password = strings.TrimRight(string(b), "\r\n")
	}
	if t := q.Get("dial_timeout"); t != "" {
		v, err := time.ParseDuration(t)
		if err != nil || v <= 0 {
			return fmt.Errorf("dial_timeout %q: want a positive duration", t)
		}
		d.dialTimeout = v
	}
	if t := q.Get("threads"); t != "" {
		v, err := strconv.Atoi(t)
		if err != nil || v < 0 {
			return fmt.Errorf("threads %q: want a number, 0 for the server's max_threads", t)
		}
		d.threads = v
	}
	return d.tlsConfig(q)
}

func (d *dsn) tlsConfig(q url.Values) error {
	secure, err := boolParam(q, "secure")
	if err != nil || !secure {
		return err
	}
	skip, err := boolParam(q, "skip_verify")
	if err != nil {
		return err
	}
	d.tls = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: skip} //nolint:gosec // asked for by name
	if f := q.Get("ca_file"); f != "" {
		pem, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("ca_file: %w", err)
		}
		d.tls.RootCAs = x509.NewCertPool()
		if !d.tls.RootCAs.AppendCertsFromPEM(pem) {
			return fmt.Errorf("ca_file %s: no certificate in it", f)
		}
	}
	return nil
}

func boolParam(q url.Values, name string) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s %q: want true or false", name, v)
	}
	return b, nil
}

// redacted is the URL without its password, for messages.
func (d *dsn) redacted() string {
	s := "clickhouse://" + strings.Join(d.addrs, ",") + "/" + d.database
	if d.cluster != "" {
		s += "?cluster=" + d.cluster
	}
	return s
}

func validIdent(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func quoteIdent(s string) string { return "`" + s + "`" }

// quoteString writes s as a ClickHouse string literal.
func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
