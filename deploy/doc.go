// Package deploy holds flowpol's Kubernetes manifests, a kustomize base
// (base/: the agent DaemonSet, the aggregator Deployment with its Service
// and PersistentVolumeClaim, the recommendation CronJob, least-privilege
// RBAC and NetworkPolicies for flowpol itself) and an overlay that lets the
// job apply what it recommends (apply/). It has no Go code: its test
// renders both with kustomize, checks what the manifests promise (the
// agent's capabilities, read-only RBAC, one aggregator), and creates every
// object in a real API server with a server-side dry run.
package deploy
