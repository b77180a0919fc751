package kubestate

import (
	"net/netip"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/flowpol/flowpol/resolve"
)

// The names of the indexes kept on the informers' stores.
const (
	byAddr       = "addr"       // pods, nodes, Services and EndpointSlices by address
	byController = "controller" // pods and ReplicaSets by their controller: ns/Kind/name
	byDeployment = "deployment" // pods by the Deployment their ReplicaSet's name implies: ns/name
	bySelector   = "selector"   // Services by each label of their selector: ns/key=value
	byService    = "service"    // EndpointSlices by their Service: ns/name
	byPod        = "pod"        // EndpointSlices by the pods they name, and deleted pods by name: ns/name
	byLabel      = "label"      // pods by each of their labels: ns/key=value
)

func podIndexers() cache.Indexers {
	return cache.Indexers{byAddr: podAddrKeys, byController: controllerKeys, byDeployment: deploymentKeys, byLabel: labelKeys}
}

// graveIndexers index the deleted pods kept for the grace period, keyed by
// uid: as the live pods, and by name and namespace.
func graveIndexers() cache.Indexers {
	ix := podIndexers()
	ix[byPod] = func(obj any) ([]string, error) {
		p := obj.(*corev1.Pod)
		return []string{p.Namespace + "/" + p.Name}, nil
	}
	ix[cache.NamespaceIndex] = cache.MetaNamespaceIndexFunc
	return ix
}

func uidKey(obj any) (string, error) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	m, err := metaOf(obj)
	if err != nil {
		return "", err
	}
	return string(m.GetUID()), nil
}

func metaOf(obj any) (metav1.Object, error) {
	if m, ok := obj.(metav1.Object); ok {
		return m, nil
	}
	return nil, errNotObject
}

func addrKeys(addrs []netip.Addr) []string {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	return out
}

func podAddrKeys(obj any) ([]string, error) {
	return addrKeys(resolve.PodAddrs(obj.(*corev1.Pod))), nil
}

func labelKeys(obj any) ([]string, error) {
	p := obj.(*corev1.Pod)
	out := make([]string, 0, len(p.Labels))
	for k, v := range p.Labels {
		out = append(out, resolve.LabelKey(p.Namespace, k, v))
	}
	return out, nil
}

func controllerKeys(obj any) ([]string, error) {
	m, err := metaOf(obj)
	if err != nil {
		return nil, err
	}
	ref := metav1.GetControllerOfNoCopy(m)
	if ref == nil {
		return nil, nil
	}
	return []string{m.GetNamespace() + "/" + ref.Kind + "/" + ref.Name}, nil
}

// deploymentKeys names the Deployment a pod's ReplicaSet belongs to by
// name, <deployment>-<pod-template-hash>, for when the ReplicaSet is not
// known.
func deploymentKeys(obj any) ([]string, error) {
	p := obj.(*corev1.Pod)
	if name, ok := deploymentByName(p); ok {
		return []string{p.Namespace + "/" + name}, nil
	}
	return nil, nil
}

func deploymentByName(p *corev1.Pod) (string, bool) {
	ref := metav1.GetControllerOfNoCopy(p)
	hash := p.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
	if ref == nil || ref.Kind != "ReplicaSet" || hash == "" {
		return "", false
	}
	return strings.CutSuffix(ref.Name, "-"+hash)
}

func nodeAddrKeys(obj any) ([]string, error) {
	return addrKeys(resolve.NodeAddrs(obj.(*corev1.Node))), nil
}

func serviceIndexers() cache.Indexers {
	return cache.Indexers{byAddr: serviceAddrKeys, bySelector: selectorKeys}
}

func serviceAddrKeys(obj any) ([]string, error) {
	svc := obj.(*corev1.Service)
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil, nil
	}
	return addrKeys(resolve.ServiceAddrs(svc)), nil
}

func selectorKeys(obj any) ([]string, error) {
	svc := obj.(*corev1.Service)
	out := make([]string, 0, len(svc.Spec.Selector))
	for k, v := range svc.Spec.Selector {
		out = append(out, svc.Namespace+"/"+k+"="+v)
	}
	return out, nil
}

func sliceIndexers() cache.Indexers {
	return cache.Indexers{byService: sliceServiceKeys, byPod: slicePodKeys, byAddr: sliceAddrKeys}
}

func sliceServiceKeys(obj any) ([]string, error) {
	s := obj.(*discoveryv1.EndpointSlice)
	if name := s.Labels[discoveryv1.LabelServiceName]; name != "" {
		return []string{s.Namespace + "/" + name}, nil
	}
	return nil, nil
}

func slicePodKeys(obj any) ([]string, error) {
	s := obj.(*discoveryv1.EndpointSlice)
	var out []string
	for _, ep := range s.Endpoints {
		if ref := ep.TargetRef; ref != nil && ref.Kind == "Pod" {
			ns := s.Namespace
			if ref.Namespace != "" {
				ns = ref.Namespace
			}
			if k := ns + "/" + ref.Name; !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out, nil
}

func sliceAddrKeys(obj any) ([]string, error) {
	s := obj.(*discoveryv1.EndpointSlice)
	var out []string
	for _, ep := range s.Endpoints {
		for _, a := range ep.Addresses {
			if addr, err := netip.ParseAddr(a); err == nil && !slices.Contains(out, addr.Unmap().String()) {
				out = append(out, addr.Unmap().String())
			}
		}
	}
	return out, nil
}
