package kubestate

import "errors"

// errNotObject says an informer handed over something without object
// metadata.
var errNotObject = errors.New("not a Kubernetes object")
