//go:build linux

package collector_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"
)

// runHelper runs this test binary as a small network program inside a test
// pod, as FLOWPOL_HELPER says, and exits. It returns false when the binary
// is not running as a helper.
func runHelper() bool {
	mode := os.Getenv("FLOWPOL_HELPER")
	if mode == "" {
		return false
	}
	if err := helper(mode, os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "helper %s: %v\n", mode, err)
		os.Exit(1)
	}
	os.Exit(0)
	return true
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
	}
	return fmt.Errorf("unknown helper mode %q", mode)
}

// tcpServe accepts connections and reads each to its end; it says "ready"
// on standard output once listening.
func tcpServe(addr string) error {
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
			io.Copy(io.Discard, c)
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
		c.Write([]byte("x"))
		c.Close()
	}
	return nil
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
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err = bufio.NewReader(c).ReadByte()
	return err
}
