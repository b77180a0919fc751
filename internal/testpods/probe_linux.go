//go:build linux

package testpods

import (
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// probeTimeout is how long a probe waits for a connection or an answer
// before calling it blocked.
const probeTimeout = 500 * time.Millisecond

// probe tries each target at once, "tcp:ADDR" (a connection) or "udp:ADDR"
// (a datagram answered), and prints "TARGET ok" or "TARGET blocked" for
// each, in the order given.
func probe(targets []string) error {
	results := make([]string, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			network, addr, _ := strings.Cut(t, ":")
			results[i] = "blocked"
			if probeOne(network, addr) == nil {
				results[i] = "ok"
			}
		})
	}
	wg.Wait()
	for i, t := range targets {
		fmt.Println(t, results[i])
	}
	return nil
}

func probeOne(network, addr string) error {
	c, err := net.DialTimeout(network, addr, probeTimeout)
	if err != nil {
		return err
	}
	defer c.Close()
	if network == "tcp" {
		return nil
	}
	c.SetDeadline(time.Now().Add(probeTimeout))
	if _, err := c.Write([]byte("probe")); err != nil {
		return err
	}
	_, err = c.Read(make([]byte, 16))
	return err
}

// tcpHold keeps one connection to an echo server and exchanges a byte on
// it every 50 ms; it says "ready" once connected and, when an exchange
// fails, "cut" and exits.
func tcpHold(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	fmt.Println("ready")
	buf := make([]byte, 1)
	for {
		c.SetDeadline(time.Now().Add(time.Second))
		if _, err := c.Write(buf); err != nil {
			break
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Println("cut")
	return nil
}

// tcpStream writes to addr for d and prints the bytes per second.
func tcpStream(addr string, d time.Duration) error {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 256<<10)
	var n int64
	start := time.Now()
	for time.Since(start) < d {
		m, err := c.Write(buf)
		n += int64(m)
		if err != nil {
			return err
		}
	}
	fmt.Printf("%.0f\n", float64(n)/time.Since(start).Seconds())
	return nil
}
