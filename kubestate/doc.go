// Package kubestate keeps the live cluster state enrichment needs, from
// client-go informers, and hands it out as inventories: Pods, Namespaces,
// Nodes, Services, EndpointSlices, ReplicaSets, Deployments, StatefulSets,
// DaemonSets, Jobs and CronJobs, each stripped by Transform to the fields
// enrichment reads, so that 10,000 pods stay small.
//
// Deleted pods are kept for a grace period, with their deletion time, so
// that flows that arrive late still resolve to the pod that held the
// address when they happened. A State is built on a SharedInformerFactory
// before the factory starts, and is safe for concurrent use.
package kubestate
