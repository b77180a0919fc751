package inventory

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// object is the part of every object read before its kind is known.
type object struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Metadata   json.RawMessage `json:"metadata"`
}

// list is a kind: List.
type list struct {
	Items []json.RawMessage `json:"items"`
}

func (inv *Inventory) addList(name string, line int, js []byte) error {
	var l list
	if err := json.Unmarshal(js, &l); err != nil {
		return &LineError{File: name, Line: line, Object: "List", Err: err}
	}
	for i, raw := range l.Items {
		if label, err := inv.addItem(raw); err != nil {
			item := fmt.Sprintf("items[%d]", i)
			return &LineError{File: name, Line: line, Item: item, Object: label, Err: err}
		}
	}
	return nil
}

// addItem adds one item of a List and, when it fails, returns a label
// for its error.
func (inv *Inventory) addItem(raw []byte) (string, error) {
	obj, err := readObject(raw)
	if err != nil {
		return "", err
	}
	if obj.Kind == "List" {
		return obj.label(), ErrNestedList
	}
	if err := inv.add(obj, raw); err != nil {
		return obj.label(), err
	}
	return "", nil
}

func readObject(js []byte) (object, error) {
	var obj object
	if t := bytes.TrimSpace(js); len(t) == 0 || t[0] != '{' {
		return obj, ErrNotObject
	}
	if err := json.Unmarshal(js, &obj); err != nil {
		return obj, err
	}
	if obj.Kind == "" {
		return obj, ErrNoKind
	}
	return obj, nil
}

// add decodes a kept kind into its slice, or counts it as skipped.
func (inv *Inventory) add(obj object, js []byte) error {
	apiVersion, decode := inv.decoder(obj.Kind)
	switch {
	case decode == nil:
		inv.Skipped[obj.Kind]++
	case obj.APIVersion != apiVersion:
		inv.Skipped[obj.Kind+" "+orNone(obj.APIVersion)]++
	default:
		return decode(js)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// label names the object in errors: "Pod shop/api-1", "Node n1", "Pod".
func (obj object) label() string {
	// Malformed metadata only costs the label here; decoding the typed
	// object reports it.
	var meta struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	}
	if obj.Kind == "" || json.Unmarshal(obj.Metadata, &meta) != nil || meta.Name == "" {
		return obj.Kind
	}
	if meta.Namespace == "" {
		return obj.Kind + " " + meta.Name
	}
	return obj.Kind + " " + meta.Namespace + "/" + meta.Name
}

// decoder returns the API version kept for kind and a function that decodes
// and checks such an object and appends it to inv, or nil for other kinds.
func (inv *Inventory) decoder(kind string) (string, func([]byte) error) {
	switch kind {
	case "Namespace":
		return "v1", func(js []byte) error { return decodeInto(js, &inv.Namespaces, nil) }
	case "Node":
		return "v1", func(js []byte) error { return decodeInto(js, &inv.Nodes, checkNode) }
	case "Pod":
		return "v1", func(js []byte) error { return decodeInto(js, &inv.Pods, checkPod) }
	case "Service":
		return "v1", func(js []byte) error { return decodeInto(js, &inv.Services, checkService) }
	case "EndpointSlice":
		return "discovery.k8s.io/v1", func(js []byte) error { return decodeInto(js, &inv.EndpointSlices, checkEndpointSlice) }
	case "ReplicaSet":
		return "apps/v1", func(js []byte) error { return decodeInto(js, &inv.ReplicaSets, nil) }
	case "Deployment":
		return "apps/v1", func(js []byte) error { return decodeInto(js, &inv.Deployments, nil) }
	case "StatefulSet":
		return "apps/v1", func(js []byte) error { return decodeInto(js, &inv.StatefulSets, nil) }
	case "DaemonSet":
		return "apps/v1", func(js []byte) error { return decodeInto(js, &inv.DaemonSets, nil) }
	case "Job":
		return "batch/v1", func(js []byte) error { return decodeInto(js, &inv.Jobs, nil) }
	case "CronJob":
		return "batch/v1", func(js []byte) error { return decodeInto(js, &inv.CronJobs, nil) }
	case "NetworkPolicy":
		return "networking.k8s.io/v1", func(js []byte) error { return decodeInto(js, &inv.NetworkPolicies, nil) }
	}
	return "", nil
}

// decodeInto decodes js as a T, requires a name, runs check if not nil and
// appends the object to dst.
func decodeInto[T any, P interface {
	*T
	GetName() string
}](js []byte, dst *[]T, check func(*T) error) error {
	var v T
	if err := json.Unmarshal(js, &v); err != nil {
		return err
	}
	if P(&v).GetName() == "" {
		return ErrNoName
	}
	if check != nil {
		if err := check(&v); err != nil {
			return err
		}
	}
	*dst = append(*dst, v)
	return nil
}
