//go:build linux && (386 || amd64 || arm64)

package enforce

import (
	"fmt"
	"net/netip"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/flowpol/flowpol/evaluator"
	"github.com/flowpol/flowpol/internal/randnet"
	"github.com/flowpol/flowpol/internal/testpods"
	"github.com/flowpol/flowpol/rules"
)

// TestConnectivityMatrix builds a seeded random cluster as network
// namespaces, every pod serving TCP and UDP on the probed ports, and one
// namespace per outside address, then enforces the cluster's policies and
// measures every connection (pod to pod, pod to outside and back, TCP and
// UDP on each port): the matrix measured through the enforcer must equal
// the evaluator's verdicts.
func TestConnectivityMatrix(t *testing.T) {
	testpods.RequireRoot(t)
	ownNode := 0
	for _, i := range mixedWorlds(t, 2) {
		t.Run("world"+strconv.Itoa(i), func(t *testing.T) { ownNode += testMatrix(t, randnet.New(matrixSeed, i).World()) })
	}
	if ownNode == 0 {
		t.Error("no connection is allowed only as own-node traffic: the enforcer's own-node entries are not exercised")
	}
}

const matrixSeed = 20261125

// mixedWorlds are the indexes of the first n worlds with three to six pods
// whose policies allow between a fifth and four fifths of the connections
// probed: worlds that allow everything or nothing prove little.
func mixedWorlds(t *testing.T, n int) []int {
	var out []int
	for i := 0; len(out) < n; i++ {
		w := randnet.New(matrixSeed, i).World()
		if len(w.Pods) < 3 || len(w.Pods) > 6 {
			continue
		}
		b := bind(t, w)
		var probes, allowed int
		for _, pr := range b.Pairs() {
			for _, port := range randnet.Ports() {
				probes++
				if b.Engine.Check(pr[0].Peer, pr[1].Peer, port, corev1.ProtocolTCP).Allowed {
					allowed++
				}
			}
		}
		if allowed*5 >= probes && allowed*5 <= probes*4 {
			out = append(out, i)
		}
	}
	return out
}

// matrixEnd is a pod or an outside address, as a namespace of its own.
type matrixEnd struct {
	pod  *testpods.Pod
	addr netip.Addr
	peer evaluator.Peer
}

// testMatrix returns how many connections were allowed only as traffic
// between a pod and its own node.
func testMatrix(t *testing.T, w *randnet.World) int {
	c := testpods.New(t, cgroupRoot)
	b := bind(t, w)
	ends, ifaces := buildMatrix(t, c, b)
	enf, err := New(Options{Netns: c.Node(), Interfaces: ifaces})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { enf.Close() })
	if err := enf.Update(b.Tables); err != nil {
		t.Fatal(err)
	}
	var checked, allowed, ownNode int
	for i, src := range ends {
		var targets []string
		var want []bool
		for j, dst := range ends {
			if i == j || (i >= len(w.Pods) && j >= len(w.Pods)) {
				continue // itself, or outside to outside: no pod in between
			}
			for _, port := range randnet.Ports() {
				for _, proto := range []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP} {
					targets = append(targets, fmt.Sprintf("%s:%s", map[corev1.Protocol]string{"TCP": "tcp", "UDP": "udp"}[proto], netip.AddrPortFrom(dst.addr, port)))
					want = append(want, b.Engine.Check(src.peer, dst.peer, port, proto).Allowed)
					if ownNodeOnly(b, src.peer, dst.peer, port, proto) {
						ownNode++
					}
				}
			}
		}
		got := probe(t, src.pod, targets...)
		for k, target := range targets {
			if (got[target] == "ok") != want[k] {
				t.Errorf("%s -> %s: %s, evaluator allowed=%v", src.addr, target, got[target], want[k])
			}
			checked++
			if want[k] {
				allowed++
			}
		}
	}
	t.Logf("%d pods, %d outside addresses, %d connections measured, %d allowed, %d of them only as between a pod and its own node",
		len(w.Pods), len(w.Addrs), checked, allowed, ownNode)
	if allowed == 0 || allowed == checked {
		t.Errorf("%d of %d allowed: the world does not exercise the enforcer", allowed, checked)
	}
	if t.Failed() {
		y, _ := rules.Marshal(b.Tables.Set)
		t.Logf("rules:\n%s", y)
	}
	return ownNode
}

// buildMatrix makes a namespace for each pod of b and each outside
// address, routes between them, and starts a TCP and a UDP server on each
// probed port of each.
func buildMatrix(t *testing.T, c *testpods.Cluster, b *randnet.Bound) ([]matrixEnd, []string) {
	w := b.World
	var ends []matrixEnd
	var ifaces []string
	for i, pod := range b.Pods {
		v4 := pod[0] // the matrix is measured over IPv4
		tp := c.AddPod(fmt.Sprintf("p%d", i), testpods.NewUID(), netip.PrefixFrom(v4.Addr, 24))
		ends = append(ends, matrixEnd{tp, v4.Addr, v4.Peer})
		ifaces = append(ifaces, tp.HostIface)
	}
	for i, a := range w.Addrs {
		tp := c.AddPod(fmt.Sprintf("out%d", i), testpods.NewUID(), netip.PrefixFrom(a, 32))
		tp.Run("ip", "route", "add", "10.244.0.0/24", "dev", "eth0")
		ends = append(ends, matrixEnd{tp, a, b.AddrEnd(a).Peer}) // the first is the node of half the pods
		ifaces = append(ifaces, tp.HostIface)
	}
	for _, e := range ends[:len(w.Pods)] {
		for _, a := range w.Addrs {
			e.pod.Run("ip", "route", "add", a.String()+"/32", "dev", "eth0")
		}
	}
	for _, e := range ends {
		for _, port := range randnet.Ports() {
			hp := netip.AddrPortFrom(e.addr, port).String()
			e.pod.StartServer(t, "tcp-serve", hp)
			e.pod.StartServer(t, "udp-serve", hp)
		}
	}
	return ends, ifaces
}

// ownNodeOnly reports a connection between a pod and its own node that
// the policies would deny were the address not the pod's node's.
func ownNodeOnly(b *randnet.Bound, src, dst evaluator.Peer, port uint16, proto corev1.Protocol) bool {
	if !evaluator.OwnNode(src.Pod, dst) && !evaluator.OwnNode(dst.Pod, src) {
		return false
	}
	src.Node, dst.Node = "", ""
	return !b.Engine.Check(src, dst, port, proto).Allowed
}
