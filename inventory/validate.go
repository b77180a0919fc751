package inventory

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

func checkPod(p *corev1.Pod) error {
	if err := checkIP("status.podIP", p.Status.PodIP); err != nil {
		return err
	}
	for i, ip := range p.Status.PodIPs {
		if err := checkIP(fmt.Sprintf("status.podIPs[%d].ip", i), ip.IP); err != nil {
			return err
		}
	}
	return nil
}

func checkService(s *corev1.Service) error {
	if s.Spec.ClusterIP != corev1.ClusterIPNone {
		if err := checkIP("spec.clusterIP", s.Spec.ClusterIP); err != nil {
			return err
		}
	}
	for i, ip := range s.Spec.ClusterIPs {
		if ip == corev1.ClusterIPNone {
			continue
		}
		if err := checkIP(fmt.Sprintf("spec.clusterIPs[%d]", i), ip); err != nil {
			return err
		}
	}
	return nil
}

// checkNode checks the InternalIP and ExternalIP addresses; the others
// (Hostname, InternalDNS, ExternalDNS) are names.
func checkNode(n *corev1.Node) error {
	for i, a := range n.Status.Addresses {
		if a.Type != corev1.NodeInternalIP && a.Type != corev1.NodeExternalIP {
			continue
		}
		if err := checkIP(fmt.Sprintf("status.addresses[%d].address", i), a.Address); err != nil {
			return err
		}
	}
	return nil
}

// checkEndpointSlice checks the addresses of IPv4 and IPv6 slices; those of
// an FQDN slice are names.
func checkEndpointSlice(s *discoveryv1.EndpointSlice) error {
	if s.AddressType == discoveryv1.AddressTypeFQDN {
		return nil
	}
	for i, ep := range s.Endpoints {
		for j, addr := range ep.Addresses {
			if err := checkIP(fmt.Sprintf("endpoints[%d].addresses[%d]", i, j), addr); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkIP accepts an empty value or an IP address.
func checkIP(field, value string) error {
	if value == "" {
		return nil
	}
	if _, err := netip.ParseAddr(value); err != nil {
		return fmt.Errorf("%s: %w: %w", field, ErrBadIP, err)
	}
	return nil
}
