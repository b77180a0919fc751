package policyfile

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// FieldError is a NetworkPolicy field the API server would refuse. It is
// ErrInvalid.
type FieldError struct {
	Field *field.Error
}

func (e *FieldError) Error() string { return e.Field.Error() }

// Is makes a FieldError ErrInvalid.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// Validate checks a NetworkPolicy as the API server does when it is
// created: its metadata (name, namespace, labels, annotations), its label
// selectors, ports, peers and policy types. It needs the namespace set.
func Validate(p *networkingv1.NetworkPolicy) field.ErrorList {
	errs := apivalidation.ValidateObjectMeta(&p.ObjectMeta, true, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	spec := field.NewPath("spec")
	errs = append(errs, validateSelector(&p.Spec.PodSelector, spec.Child("podSelector"))...)
	for i, r := range p.Spec.Ingress {
		path := spec.Child("ingress").Index(i)
		errs = append(errs, validatePorts(r.Ports, path.Child("ports"))...)
		errs = append(errs, validatePeers(r.From, path.Child("from"))...)
	}
	for i, r := range p.Spec.Egress {
		path := spec.Child("egress").Index(i)
		errs = append(errs, validatePorts(r.Ports, path.Child("ports"))...)
		errs = append(errs, validatePeers(r.To, path.Child("to"))...)
	}
	return append(errs, validatePolicyTypes(p.Spec.PolicyTypes, spec.Child("policyTypes"))...)
}

func validateSelector(s *metav1.LabelSelector, path *field.Path) field.ErrorList {
	return metavalidation.ValidateLabelSelector(s, metavalidation.LabelSelectorValidationOptions{}, path)
}

func validatePolicyTypes(types []networkingv1.PolicyType, path *field.Path) field.ErrorList {
	valid := []string{string(networkingv1.PolicyTypeIngress), string(networkingv1.PolicyTypeEgress)}
	if len(types) > len(valid) {
		return field.ErrorList{field.Invalid(path, types, "may not specify more than two policyTypes")}
	}
	var errs field.ErrorList
	for i, t := range types {
		if t != networkingv1.PolicyTypeIngress && t != networkingv1.PolicyTypeEgress {
			errs = append(errs, field.NotSupported(path.Index(i), t, valid))
		}
	}
	return errs
}

func validatePorts(ports []networkingv1.NetworkPolicyPort, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, p := range ports {
		errs = append(errs, validatePort(p, path.Index(i))...)
	}
	return errs
}

// validatePort checks a protocol (TCP, UDP or SCTP; none is TCP), a port
// (a number 1-65535 or an IANA service name) and an end port (only with a
// numeric port, not below it).
func validatePort(p networkingv1.NetworkPolicyPort, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if p.Protocol != nil && *p.Protocol != corev1.ProtocolTCP && *p.Protocol != corev1.ProtocolUDP && *p.Protocol != corev1.ProtocolSCTP {
		errs = append(errs, field.NotSupported(path.Child("protocol"), *p.Protocol, []string{"TCP", "UDP", "SCTP"}))
	}
	switch {
	case p.Port == nil && p.EndPort != nil:
		errs = append(errs, field.Invalid(path.Child("endPort"), *p.EndPort, "may not be specified when `port` is not specified"))
	case p.Port == nil:
	case p.Port.Type == intstr.String:
		for _, msg := range validation.IsValidPortName(p.Port.StrVal) {
			errs = append(errs, field.Invalid(path.Child("port"), p.Port.StrVal, msg))
		}
		if p.EndPort != nil {
			errs = append(errs, field.Invalid(path.Child("endPort"), *p.EndPort, "may not be specified when `port` is non-numeric"))
		}
	default:
		errs = append(errs, validatePortNumber(p.Port.IntVal, path.Child("port"))...)
		if p.EndPort != nil {
			if *p.EndPort < p.Port.IntVal {
				errs = append(errs, field.Invalid(path.Child("endPort"), *p.EndPort, "must be greater than or equal to `port`"))
			}
			errs = append(errs, validatePortNumber(*p.EndPort, path.Child("endPort"))...)
		}
	}
	return errs
}

func validatePortNumber(n int32, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsValidPortNum(int(n)) {
		errs = append(errs, field.Invalid(path, n, msg))
	}
	return errs
}

func validatePeers(peers []networkingv1.NetworkPolicyPeer, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, p := range peers {
		errs = append(errs, validatePeer(p, path.Index(i))...)
	}
	return errs
}

// validatePeer checks a peer's selectors or address block: at least one,
// and an ipBlock alone.
func validatePeer(p networkingv1.NetworkPolicyPeer, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	n := 0
	if p.PodSelector != nil {
		n++
		errs = append(errs, validateSelector(p.PodSelector, path.Child("podSelector"))...)
	}
	if p.NamespaceSelector != nil {
		n++
		errs = append(errs, validateSelector(p.NamespaceSelector, path.Child("namespaceSelector"))...)
	}
	if p.IPBlock != nil {
		n++
		errs = append(errs, validateIPBlock(p.IPBlock, path.Child("ipBlock"))...)
	}
	switch {
	case n == 0:
		errs = append(errs, field.Required(path, "must specify a peer"))
	case n > 1 && p.IPBlock != nil:
		errs = append(errs, field.Forbidden(path, "may not specify both ipBlock and another peer"))
	}
	return errs
}

// validateIPBlock checks the block's CIDR and that each exception is a
// CIDR strictly inside it.
func validateIPBlock(b *networkingv1.IPBlock, path *field.Path) field.ErrorList {
	if b.CIDR == "" {
		return field.ErrorList{field.Required(path.Child("cidr"), "")}
	}
	cidr, errs := parseCIDR(b.CIDR, path.Child("cidr"))
	if len(errs) > 0 {
		return errs
	}
	for i, x := range b.Except {
		xpath := path.Child("except").Index(i)
		except, xerrs := parseCIDR(x, xpath)
		errs = append(errs, xerrs...)
		if len(xerrs) == 0 && !(cidr.Contains(except.Addr()) && except.Bits() > cidr.Bits()) {
			errs = append(errs, field.Invalid(xpath, x, "must be a strict subset of `cidr`"))
		}
	}
	return errs
}

// parseCIDR reads a CIDR as the API server does with strict validation:
// no leading zeros, no IPv4-mapped IPv6 address, no bits set beyond the
// prefix length.
func parseCIDR(s string, path *field.Path) (netip.Prefix, field.ErrorList) {
	p, err := netip.ParsePrefix(s)
	switch {
	case err != nil:
		return p, field.ErrorList{field.Invalid(path, s, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")}
	case p.Addr().Is4In6():
		return p, field.ErrorList{field.Invalid(path, s, "must not have an IPv4-mapped IPv6 address")}
	case p.Addr() != p.Masked().Addr():
		return p, field.ErrorList{field.Invalid(path, s, "must not have bits set beyond the prefix length")}
	}
	return p, nil
}
