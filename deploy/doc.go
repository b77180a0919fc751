// Package deploy holds flowpol's Kubernetes manifests: a kustomize base
// (base/: the agent DaemonSet, the aggregator Deployment with its Service
// and PersistentVolumeClaim, the recommendation CronJob, least-privilege
// RBAC and NetworkPolicies for flowpol itself), an overlay that lets the
// job apply what it recommends (apply/), and a Helm chart (chart/) with
// the same objects, TLS by default, monitors and the optional enforcer. It
// has no Go code: its tests render the kustomizations with kustomize and
// the chart with Helm's SDK, check what the manifests promise (the agent's
// capabilities, read-only RBAC, one aggregator, certificates that verify,
// the image tag make image gives), keep chart and base equal, and create
// every object in a real API server with a server-side dry run.
package deploy
