package inventory

import (
	"io"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// Inventory is the cluster state read from one dump, in input order.
type Inventory struct {
	Namespaces     []corev1.Namespace
	Nodes          []corev1.Node
	Pods           []corev1.Pod
	Services       []corev1.Service
	EndpointSlices []discoveryv1.EndpointSlice
	ReplicaSets    []appsv1.ReplicaSet
	Deployments    []appsv1.Deployment
	StatefulSets   []appsv1.StatefulSet
	DaemonSets     []appsv1.DaemonSet
	Jobs           []batchv1.Job
	CronJobs       []batchv1.CronJob
	// NetworkPolicies are kept too, for the commands that read policies.
	NetworkPolicies []networkingv1.NetworkPolicy
	// Skipped counts the objects not kept, by kind ("ConfigMap"), or by kind
	// and API version ("Deployment extensions/v1beta1") for a kept kind in
	// another version. It is never nil.
	Skipped map[string]int
}

// Load reads a whole dump from r with the default Options.
func Load(r io.Reader, name string) (*Inventory, error) {
	return Options{}.Load(r, name)
}

// LoadFile loads the file at path with the default Options.
func LoadFile(path string) (*Inventory, error) {
	return Options{}.LoadFile(path)
}

// Objects returns the number of objects kept, not counting Skipped.
func (inv *Inventory) Objects() int {
	return len(inv.Namespaces) + len(inv.Nodes) + len(inv.Pods) + len(inv.Services) +
		len(inv.EndpointSlices) + len(inv.ReplicaSets) + len(inv.Deployments) +
		len(inv.StatefulSets) + len(inv.DaemonSets) + len(inv.Jobs) + len(inv.CronJobs) + len(inv.NetworkPolicies)
}
