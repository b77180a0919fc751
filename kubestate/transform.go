package kubestate

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
)

// Transform strips an object to what enrichment reads: no managed fields
// or annotations, a pod's containers reduced to their ports, a
// controller's pod template to its labels, no status but a pod's phase,
// addresses and start time, and a Job's or CronJob's last run. Use it with informers.WithTransform.
func Transform(obj any) (any, error) {
	if m, err := meta.Accessor(obj); err == nil {
		m.SetManagedFields(nil)
		m.SetAnnotations(nil)
	}
	switch o := obj.(type) {
	case *corev1.Pod:
		stripPod(o)
	case *appsv1.Deployment:
		o.Spec.Template.Spec, o.Status = corev1.PodSpec{}, appsv1.DeploymentStatus{}
	case *appsv1.ReplicaSet:
		o.Spec.Template.Spec, o.Status = corev1.PodSpec{}, appsv1.ReplicaSetStatus{}
	case *appsv1.StatefulSet:
		o.Spec.Template.Spec, o.Spec.VolumeClaimTemplates, o.Status = corev1.PodSpec{}, nil, appsv1.StatefulSetStatus{}
	case *appsv1.DaemonSet:
		o.Spec.Template.Spec, o.Status = corev1.PodSpec{}, appsv1.DaemonSetStatus{}
	case *batchv1.Job:
		o.Spec.Template.Spec = corev1.PodSpec{}
		o.Status = batchv1.JobStatus{StartTime: o.Status.StartTime, CompletionTime: o.Status.CompletionTime, Active: o.Status.Active}
	case *batchv1.CronJob:
		o.Spec.JobTemplate.Spec.Template.Spec = corev1.PodSpec{}
		o.Status = batchv1.CronJobStatus{LastScheduleTime: o.Status.LastScheduleTime, Active: o.Status.Active}
	case *corev1.Node:
		o.Status = corev1.NodeStatus{Addresses: o.Status.Addresses}
	}
	return obj, nil
}

func stripPod(p *corev1.Pod) {
	containers := make([]corev1.Container, len(p.Spec.Containers))
	for i, c := range p.Spec.Containers {
		containers[i] = corev1.Container{Name: c.Name, Ports: c.Ports}
	}
	p.Spec = corev1.PodSpec{HostNetwork: p.Spec.HostNetwork, NodeName: p.Spec.NodeName, Containers: containers}
	p.Status = corev1.PodStatus{Phase: p.Status.Phase, PodIP: p.Status.PodIP, PodIPs: p.Status.PodIPs, StartTime: p.Status.StartTime}
}
