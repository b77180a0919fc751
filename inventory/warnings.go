package inventory

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// WarningKind says what an inventory leaves to interpretation.
type WarningKind uint8

// Warning kinds.
const (
	// NoPods: the inventory keeps no pod, so every pod address is read as
	// external or unresolved.
	NoPods WarningKind = iota + 1
	// SharedIP: two Running pods, neither being deleted, hold the same
	// address; flows to it are placed on the first.
	SharedIP
)

// Warning is one thing the inventory leaves to interpretation.
type Warning struct {
	Kind WarningKind
	// IP and Pods, for SharedIP: the address and the pods
	// ("namespace/name") that hold it.
	IP   string
	Pods []string
}

func (w Warning) String() string {
	switch w.Kind {
	case NoPods:
		return "the inventory has no pods: every pod address will be external or unresolved"
	case SharedIP:
		return fmt.Sprintf("Running pods %v share the address %s: flows to it are placed on the first", w.Pods, w.IP)
	}
	return fmt.Sprintf("WarningKind(%d)", uint8(w.Kind))
}

// Warnings returns what the inventory leaves to interpretation, in input
// order.
func (inv *Inventory) Warnings() []Warning {
	if len(inv.Pods) == 0 {
		return []Warning{{Kind: NoPods}}
	}
	var out []Warning
	holders := map[string][]string{}
	var order []string
	for i := range inv.Pods {
		p := &inv.Pods[i]
		if p.Status.Phase != corev1.PodRunning || p.Spec.HostNetwork || p.DeletionTimestamp != nil {
			continue
		}
		for _, ip := range podIPs(p) {
			if len(holders[ip]) == 1 {
				order = append(order, ip)
			}
			holders[ip] = append(holders[ip], p.Namespace+"/"+p.Name)
		}
	}
	for _, ip := range order {
		out = append(out, Warning{Kind: SharedIP, IP: ip, Pods: holders[ip]})
	}
	return out
}

// podIPs returns a pod's addresses, each once.
func podIPs(p *corev1.Pod) []string {
	var out []string
	seen := map[string]bool{}
	for _, ip := range append([]string{p.Status.PodIP}, ipsOf(p.Status.PodIPs)...) {
		if ip != "" && !seen[ip] {
			seen[ip] = true
			out = append(out, ip)
		}
	}
	return out
}

func ipsOf(ips []corev1.PodIP) []string {
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = ip.IP
	}
	return out
}
