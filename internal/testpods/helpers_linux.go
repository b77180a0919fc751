//go:build linux

package testpods

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"testing"
	"time"
)

// MaybeRunHelper runs this test binary as a small network program inside a
// test pod, as FLOWPOL_HELPER says, and exits. It returns when the binary
// is not running as a helper: call it first in TestMain.
func MaybeRunHelper() {
	mode := os.Getenv("FLOWPOL_HELPER")
	if mode == "" {
		return
	}
	if err := helper(mode, os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "helper %s: %v\n", mode, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func helper(mode string, args []string) error {
	switch mode {
	case "tcp-serve":
		return tcpServe(args[0])
	case "udp-serve":
		return udpServe(args[0])
	case "tcp-connect":
		n, err := strconv.Atoi(args[1])
		if err != nil {
			return err
		}
		return tcpConnect(args[0], n)
	case "tcp-refused":
		if c, err := net.DialTimeout("tcp", args[0], 2*time.Second); err == nil {
			c.Close()
			return errors.New("connected where nothing listens")
		}
		return nil
	case "udp-query":
		return udpQuery(args[0])
	case "tcp-echo":
		return tcpEcho(args[0])
	case "probe":
		return probe(args)
	case "tcp-hold":
		return tcpHold(args[0])
	case "tcp-stream":
		d, err := time.ParseDuration(args[1])
		if err != nil {
			return err
		}
		return tcpStream(args[0], d)
	}
	return fmt.Errorf("unknown helper mode %q", mode)
}

// tcpServe accepts connections and reads each to its end; it says "ready"
// on standard output once listening.
func tcpServe(addr string) error {
	return serveTCP(addr, func(c net.Conn) { io.Copy(io.Discard, c) })
}

// tcpEcho echoes every connection back; it says "ready" once listening.
func tcpEcho(addr string) error {
	return serveTCP(addr, func(c net.Conn) { io.Copy(c, c) })
}

// serveTCP handles each connection accepted on addr, then closes it.
func serveTCP(addr string, handle func(net.Conn)) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Println("ready")
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		go func() {
			handle(c)
			c.Close()
		}()
	}
}

// udpServe answers every datagram with one of its own.
func udpServe(addr string) error {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	fmt.Println("ready")
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return err
		}
		if _, err := pc.WriteTo(buf[:n], from); err != nil {
			return err
		}
	}
}

// tcpConnect makes n short connections, one after another.
func tcpConnect(addr string, n int) error {
	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		_, werr := c.Write([]byte("x"))
		if err := errors.Join(werr, c.Close()); err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
	}
	return nil
}

// RunClientOutput runs a helper client in the pod and returns what it
// printed.
func (p *Pod) RunClientOutput(t testing.TB, mode string, args ...string) string {
	t.Helper()
	cmd := p.Command(append([]string{os.Args[0]}, args...)...)
	cmd.Env = append(os.Environ(), "FLOWPOL_HELPER="+mode)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v in pod %s: %v", mode, args, p.Name, err)
	}
	return string(out)
}

// udpQuery sends one query and waits for its answer.
func udpQuery(addr string) error {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write([]byte("query")); err != nil {
		return err
	}
	if err := c.SetReadDeadline(time.Now().Add(2 * time.Second)); err != nil {
		return err
	}
	_, err = bufio.NewReader(c).ReadByte()
	return err
}

// StartServer runs a helper server (tcp-serve or udp-serve) on addr in the
// pod and waits until it listens.
func (p *Pod) StartServer(t testing.TB, mode, addr string) {
	t.Helper()
	cmd := p.Command(os.Args[0], addr)
	cmd.Env = append(os.Environ(), "FLOWPOL_HELPER="+mode)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("%s on %s did not start: %q %v", mode, addr, line, err)
	}
}

// RunClient runs a helper client in the pod and waits for it: tcp-connect
// ADDR N, tcp-refused ADDR, or udp-query ADDR.
func (p *Pod) RunClient(t testing.TB, mode string, args ...string) {
	t.Helper()
	cmd := p.Command(append([]string{os.Args[0]}, args...)...)
	cmd.Env = append(os.Environ(), "FLOWPOL_HELPER="+mode)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v in pod %s: %v\n%s", mode, args, p.Name, err, out)
	}
}
