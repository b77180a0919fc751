// Package inventory reads a dump of cluster state, as written by
// `kubectl get ns,nodes,pods,svc,endpointslices,deploy,rs,sts,ds,jobs,cronjobs -A -o yaml`
// (or -o json): one kind: List, a multi-document YAML stream of objects and
// Lists, or a JSON object or List. Namespaces, Nodes, Pods, Services,
// EndpointSlices, ReplicaSets, Deployments, StatefulSets, DaemonSets, Jobs,
// CronJobs and NetworkPolicies of the expected API version are decoded into
// their client-go types;
// every other object is only counted, by kind. It needs no cluster access and
// no privileges. Load reads the whole input and returns either a complete
// Inventory or an error naming the file and line, never a partial result; the
// Inventory shares nothing with the input or with other calls, so the caller
// owns it and may keep or modify it freely.
//
// A List's items are read one at a time and converted and decoded on every
// core, a few at a time, then kept in their order: a large inventory costs
// what it keeps, and loads in about the time of its reading on two cores.
// YAML in the block style kubectl writes is converted to JSON directly;
// only what that conversion does not know (anchors, flow collections,
// block scalars and the like) goes through the YAML parser.
package inventory
