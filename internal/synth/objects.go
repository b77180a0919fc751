package synth

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// created is when every synthetic object was created.
func created() metav1.Time { return metav1.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC) }

func objectMeta(ns, name, uid string, labels map[string]string, owner *metav1.OwnerReference) metav1.ObjectMeta {
	m := metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid), Labels: labels, CreationTimestamp: created()}
	if owner != nil {
		m.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	return m
}

func controllerRef(kind, name, uid string) *metav1.OwnerReference {
	return &metav1.OwnerReference{APIVersion: "apps/v1", Kind: kind, Name: name, UID: types.UID(uid), Controller: ptrTo(true)}
}

func newNamespace(name string) corev1.Namespace {
	return corev1.Namespace{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelMetadataName: name}, CreationTimestamp: created()},
	}
}

func newNode(name string, ip netip.Addr, cidr netip.Prefix, controlPlane bool) corev1.Node {
	labels := map[string]string{corev1.LabelHostname: name}
	if controlPlane {
		labels["node-role.kubernetes.io/control-plane"] = ""
	}
	return corev1.Node{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Node"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, CreationTimestamp: created()},
		Spec:       corev1.NodeSpec{PodCIDR: cidr.String(), PodCIDRs: []string{cidr.String()}},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: ip.String()},
			{Type: corev1.NodeHostName, Address: name},
		}},
	}
}

func container(name, image string, ports ...corev1.ContainerPort) corev1.Container {
	return corev1.Container{Name: name, Image: image, Ports: ports}
}

func containerPort(name string, port uint16, proto corev1.Protocol) corev1.ContainerPort {
	return corev1.ContainerPort{Name: name, ContainerPort: int32(port), Protocol: proto}
}

func template(labels map[string]string, c corev1.Container) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{c}},
	}
}

// withLabel returns a copy of labels with one more.
func withLabel(labels map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(labels)+1)
	for lk, lv := range labels {
		out[lk] = lv
	}
	out[k] = v
	return out
}

// deployment adds a Deployment, its ReplicaSet and its pods, and returns
// where the pods are.
func (b *builder) deployment(ns, name string, labels map[string]string, c corev1.Container, replicas int) ([]endpoint, error) {
	dUID, rsUID, hash := b.uid(), b.uid(), b.randName(10)
	rsName := name + "-" + hash
	podLabels := withLabel(labels, "pod-template-hash", hash)
	b.inv.Deployments = append(b.inv.Deployments, appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: objectMeta(ns, name, dUID, labels, nil),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptrTo(int32(replicas)), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: template(labels, c),
		},
	})
	b.inv.ReplicaSets = append(b.inv.ReplicaSets, appsv1.ReplicaSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: objectMeta(ns, rsName, rsUID, podLabels, controllerRef("Deployment", name, dUID)),
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptrTo(int32(replicas)), Selector: &metav1.LabelSelector{MatchLabels: podLabels}, Template: template(podLabels, c),
		},
	})
	owner := controllerRef("ReplicaSet", rsName, rsUID)
	return b.pods(replicas, func(int) metav1.ObjectMeta {
		return objectMeta(ns, rsName+"-"+b.randName(5), b.uid(), podLabels, owner)
	}, c)
}

// statefulSet adds a StatefulSet and its pods, and returns where the pods
// are.
func (b *builder) statefulSet(ns, name string, labels map[string]string, c corev1.Container, replicas int) ([]endpoint, error) {
	uid, revision := b.uid(), name+"-"+b.randName(10)
	b.inv.StatefulSets = append(b.inv.StatefulSets, appsv1.StatefulSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: objectMeta(ns, name, uid, labels, nil),
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptrTo(int32(replicas)), ServiceName: name,
			Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: template(labels, c),
		},
	})
	owner := controllerRef("StatefulSet", name, uid)
	return b.pods(replicas, func(i int) metav1.ObjectMeta {
		podName := fmt.Sprintf("%s-%d", name, i)
		l := withLabel(withLabel(labels, "controller-revision-hash", revision), "statefulset.kubernetes.io/pod-name", podName)
		return objectMeta(ns, podName, b.uid(), l, owner)
	}, c)
}

// pods adds running pods, placed on the nodes in turn.
func (b *builder) pods(n int, meta func(i int) metav1.ObjectMeta, c corev1.Container) ([]endpoint, error) {
	eps := make([]endpoint, 0, n)
	for i := range n {
		ep, hostIP, err := b.place()
		if err != nil {
			return nil, err
		}
		m := meta(i)
		ep.sock = podSocket(string(m.UID), len(b.inv.Pods))
		b.inv.Pods = append(b.inv.Pods, newPod(m, c, ep, hostIP))
		eps = append(eps, ep)
	}
	return eps, nil
}

// podSocket is what the collector writes of a socket in the i-th pod,
// whose uid is uid. Nothing is drawn from the builder's random numbers, so
// the cluster is the same with or without it.
func podSocket(uid string, i int) socketOf {
	sum := sha256.Sum256([]byte(uid))
	return socketOf{
		cgroupID:  firstPodCgroup + uint64(i),
		uid:       uid,
		container: hex.EncodeToString(sum[:]),
		netns:     firstPodNetns + uint32(i),
	}
}

// firstPodCgroup and firstPodNetns number the pods' cgroups and network
// namespaces, as inode numbers look on a node.
const (
	firstPodCgroup = 1 << 16
	firstPodNetns  = 4026532000
)

func newPod(meta metav1.ObjectMeta, c corev1.Container, ep endpoint, hostIP netip.Addr) corev1.Pod {
	return corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: meta,
		Spec:       corev1.PodSpec{NodeName: ep.node, Containers: []corev1.Container{c}},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning, HostIP: hostIP.String(),
			PodIP: ep.addr.String(), PodIPs: []corev1.PodIP{{IP: ep.addr.String()}},
		},
	}
}

func servicePort(name string, port uint16, target intstr.IntOrString, proto corev1.Protocol) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: int32(port), TargetPort: target, Protocol: proto}
}

// intOrName is a target port: the name when not empty, else the number.
func intOrName(port uint16, name string) intstr.IntOrString {
	if name != "" {
		return intstr.FromString(name)
	}
	return intstr.FromInt32(int32(port))
}

func newService(ns, name string, selector map[string]string, vip netip.Addr, ports ...corev1.ServicePort) corev1.Service {
	return corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: created()},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, Selector: selector, Ports: ports,
			ClusterIP: vip.String(), ClusterIPs: []string{vip.String()},
		},
	}
}

// newAPIServerSlice is the kubernetes Service's EndpointSlice: the API
// server on the control-plane node.
func newAPIServerSlice(addr netip.Addr, port uint16) discoveryv1.EndpointSlice {
	return discoveryv1.EndpointSlice{
		TypeMeta: metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "kubernetes", CreationTimestamp: created(),
			Labels: map[string]string{discoveryv1.LabelServiceName: "kubernetes"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{addr.String()}, Conditions: discoveryv1.EndpointConditions{Ready: ptrTo(true)}}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptrTo("https"), Port: ptrTo(int32(port)), Protocol: ptrTo(corev1.ProtocolTCP)}},
	}
}

func ptrTo[T any](v T) *T { return &v }
