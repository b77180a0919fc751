package demo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// roleEnv names the role a re-executed demo process plays.
const roleEnv = "FLOWPOL_DEMO_ROLE"

// MaybeRunRole runs this process as one of the app's programs when the
// demo started it as one, and exits; otherwise it returns at once. Call it
// first in main (and in TestMain).
func MaybeRunRole() {
	role := os.Getenv(roleEnv)
	if role == "" {
		return
	}
	if err := runRole(context.Background(), role, args(os.Args[1:]), os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", role, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// args reads key=value arguments; a key may repeat (its values are joined
// with commas).
func args(list []string) map[string]string {
	out := map[string]string{}
	for _, a := range list {
		k, v, _ := strings.Cut(a, "=")
		if out[k] != "" {
			v = out[k] + "," + v
		}
		out[k] = v
	}
	return out
}

func runRole(ctx context.Context, role string, a map[string]string, out io.Writer) error {
	switch role {
	case "dns":
		return serveDNS(a["listen"], a["record"], out)
	case "frontend", "catalog", "cart", "payments":
		return serveHTTP(a["listen"], newService(role, a["dns"]), out)
	case "postgres":
		return serveLines(a["listen"], func(string) string { return "3 rows" }, out)
	case "redis":
		return serveLines(a["listen"], func(q string) string { return "VALUE " + strings.TrimPrefix(q, "GET ") }, out)
	case "loadgen":
		d, err := time.ParseDuration(a["duration"])
		if err != nil {
			return err
		}
		return loadgen(ctx, newService(role, a["dns"]), a["target"], d, out)
	case "probe":
		return probe(a["target"], out)
	}
	return fmt.Errorf("unknown role %q", role)
}

// service is one of the app's programs, and how it finds its peers: by
// name, through the cluster's DNS server, as a pod would.
type service struct {
	role   string
	client *http.Client
	dialer *net.Dialer
}

func newService(role, dns string) *service {
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "udp", dns)
	}}
	d := &net.Dialer{Resolver: r, Timeout: 2 * time.Second}
	tr := &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
		return d.DialContext(ctx, "tcp4", addr)
	}}
	return &service{role: role, client: &http.Client{Transport: tr, Timeout: 3 * time.Second}, dialer: d}
}

// Names the app's programs use for each other.
const (
	frontendURL = "http://frontend.shop.svc.cluster.local:8080/"
	catalogURL  = "http://catalog.shop.svc.cluster.local:8080/items"
	cartURL     = "http://cart.shop.svc.cluster.local:8080/cart"
	paymentsURL = "http://payments.example.com:443/authorize"
	postgresAt  = "postgres-0.postgres.data.svc.cluster.local:5432"
	redisAt     = "redis.data.svc.cluster.local:6379"
)

// ServeHTTP answers a request by making the calls the role makes.
func (s *service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var err error
	switch s.role {
	case "frontend":
		cart := cartURL
		if r.URL.RawQuery != "" {
			cart += "?" + r.URL.RawQuery
		}
		err = errors.Join(s.get(r.Context(), catalogURL), s.get(r.Context(), cart))
	case "catalog":
		err = errors.Join(s.ask(r.Context(), postgresAt, "SELECT * FROM items"), s.ask(r.Context(), redisAt, "GET items"))
	case "cart":
		err = s.ask(r.Context(), redisAt, "GET cart")
		if err == nil && r.URL.Query().Get("checkout") != "" {
			err = s.get(r.Context(), paymentsURL)
		}
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	fmt.Fprintf(w, "%s ok\n", s.role)
}

func (s *service) get(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	if err = errors.Join(err, resp.Body.Close()); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// ask sends a line to a line server and reads its answer.
func (s *service) ask(ctx context.Context, addr, line string) error {
	c, err := s.dialer.DialContext(ctx, "tcp4", addr)
	if err != nil {
		return err
	}
	defer c.Close() //nolint:errcheck // the answer was read, or its error is returned
	if err := c.SetDeadline(time.Now().Add(2 * time.Second)); err != nil {
		return err
	}
	if _, err := fmt.Fprintf(c, "%s\n", line); err != nil {
		return err
	}
	_, err = bufio.NewReader(c).ReadString('\n')
	return err
}

func serveHTTP(addr string, h http.Handler, out io.Writer) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "ready")
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	return srv.Serve(l)
}

// serveLines is the database's and the cache's trivial protocol: a line
// in, a line out, per connection.
func serveLines(addr string, answer func(string) string, out io.Writer) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "ready")
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close() //nolint:errcheck // a server's end of a finished exchange
			if c.SetDeadline(time.Now().Add(5*time.Second)) != nil {
				return // the connection is gone already
			}
			q, err := bufio.NewReader(c).ReadString('\n')
			if err == nil {
				fmt.Fprintln(c, answer(strings.TrimSpace(q)))
			}
		}()
	}
}

// serveDNS answers A queries for the names in records ("name=ip,...")
// and nothing else, as the cluster's DNS server.
func serveDNS(addr, records string, out io.Writer) error {
	table := map[string]net.IP{}
	for r := range strings.SplitSeq(records, ",") {
		name, ip, _ := strings.Cut(r, "=")
		table[strings.ToLower(name)+"."] = net.ParseIP(ip).To4()
	}
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "ready")
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return err
		}
		if reply, err := answerDNS(buf[:n], table); err == nil {
			if _, err := pc.WriteTo(reply, from); err != nil {
				return err
			}
		}
	}
}

func answerDNS(query []byte, table map[string]net.IP) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, err
	}
	q, err := p.Question()
	if err != nil {
		return nil, err
	}
	ip, known := table[strings.ToLower(q.Name.String())]
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired}
	if !known {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	if known && q.Type == dnsmessage.TypeA {
		var a dnsmessage.AResource
		copy(a.A[:], ip)
		if err := b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 5}, a); err != nil {
			return nil, err
		}
	}
	return b.Finish()
}

// loadgen drives the app through the frontend for d, ten requests a
// second (every fifth a checkout, which reaches the payments endpoint),
// and says how many succeeded.
func loadgen(ctx context.Context, s *service, target string, d time.Duration, out io.Writer) error {
	var ok, total atomic.Int64
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	var lastErr error
	for i := 0; ; i++ {
		url := target
		if i%5 == 4 {
			url += "?checkout=1"
		}
		total.Add(1)
		if err := s.get(context.Background(), url); err == nil {
			ok.Add(1)
		} else {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(out, "%d of %d requests succeeded\n", ok.Load(), total.Load())
			if lastErr != nil {
				fmt.Fprintf(out, "last error: %v\n", lastErr)
			}
			return nil
		case <-t.C:
		}
	}
}

// probe opens one TCP connection and says what became of it: connected,
// refused, or dropped (no answer in two seconds).
func probe(target string, out io.Writer) error {
	c, err := net.DialTimeout("tcp4", target, 2*time.Second)
	switch {
	case err == nil:
		fmt.Fprintln(out, "connected")
		return c.Close()
	case errors.Is(err, os.ErrDeadlineExceeded) || strings.Contains(err.Error(), "timeout"):
		fmt.Fprintln(out, "dropped")
	default:
		fmt.Fprintf(out, "failed: %v\n", err)
	}
	return nil
}
