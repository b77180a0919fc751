// Package resolve places the ends of flow records in a cluster: a
// workload (following ownerReferences from the pod to its top controller),
// a Service's backends and target port, a node or hostNetwork pod, the API
// server, an external address, or an end it cannot place, with the reason.
//
// A Resolver is the contract; the package's own is built from an
// inventory, and the live cluster's (kubestate) keeps indexes current per
// informer event. Nothing here needs privileges.
package resolve
