package policyfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsjson "sigs.k8s.io/json"
	sigsyaml "sigs.k8s.io/yaml"
)

// typeMeta is what is read of every object before its kind is known.
type typeMeta struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Metadata   json.RawMessage `json:"metadata"`
}

// label names an object in messages: "NetworkPolicy shop/api".
// Metadata that does not decode costs only the name here; decoding the
// object reports it.
func (m typeMeta) label() string {
	var meta struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	}
	switch {
	case json.Unmarshal(m.Metadata, &meta) != nil || meta.Name == "":
		return m.Kind
	case meta.Namespace == "":
		return m.Kind + " " + meta.Name
	}
	return m.Kind + " " + meta.Namespace + "/" + meta.Name
}

// reader adds the documents of files to a Set.
type reader struct {
	opts Options
	set  *Set
	errs []error
}

func (r *reader) fail(file string, line int, object string, err error) {
	r.errs = append(r.errs, &Error{File: file, Line: line, Object: object, Err: err})
}

// document reads one document: nothing, an object, or a List of them.
func (r *reader) document(file string, d document) {
	var root yaml.Node
	if err := yaml.Unmarshal(d.body, &root); err != nil {
		line, msg := yamlErrorLine(err)
		r.fail(file, d.line+max(line, 1)-1, "", errors.New(msg))
		return
	}
	if len(root.Content) == 0 || isNull(root.Content[0]) {
		return // empty, or only comments
	}
	node := root.Content[0]
	shiftLines(node, d.line-1)
	js, err := sigsyaml.YAMLToJSONStrict(d.body)
	if err != nil {
		line, msg := yamlErrorLine(err)
		r.fail(file, d.line+max(line, 1)-1, "", errors.New(msg))
		return
	}
	r.object(file, node, js, false)
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// shiftLines makes a document's node lines the file's.
func shiftLines(n *yaml.Node, by int) {
	n.Line += by
	for _, c := range n.Content {
		shiftLines(c, by)
	}
}

var yamlLine = regexp.MustCompile(`line (\d+): `)

// yamlErrorLine takes the document line out of a YAML error, and returns
// the message without it.
func yamlErrorLine(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")
	msg = strings.TrimPrefix(msg, "yaml: ")
	m := yamlLine.FindStringSubmatchIndex(msg)
	if m == nil {
		return 0, "YAML: " + msg
	}
	line, _ := strconv.Atoi(msg[m[2]:m[3]]) // digits
	msg = msg[:m[0]] + msg[m[1]:]
	msg = strings.TrimSpace(strings.TrimPrefix(msg, "unmarshal errors:"))
	return line, "YAML: " + msg
}

// object reads one object, at node.
func (r *reader) object(file string, node *yaml.Node, js []byte, inList bool) {
	var tm typeMeta
	if node.Kind != yaml.MappingNode || json.Unmarshal(js, &tm) != nil || tm.Kind == "" || tm.APIVersion == "" {
		r.fail(file, node.Line, "", ErrNotObject)
		return
	}
	switch {
	case tm.Kind == "List" && tm.APIVersion == "v1":
		if inList {
			r.fail(file, node.Line, "", ErrNestedList)
			return
		}
		r.list(file, node, js)
	case tm.Kind == "NetworkPolicy" && tm.APIVersion != networkingv1.SchemeGroupVersion.String():
		r.fail(file, node.Line, tm.label(), fmt.Errorf("apiVersion %s: %w", tm.APIVersion, ErrAPIVersion))
	case tm.Kind == "NetworkPolicy":
		r.policy(file, node, js, tm.label())
	case r.opts.Cilium && tm.Kind == "CiliumNetworkPolicy" && tm.APIVersion == ciliumAPIVersion:
		r.cilium(file, node, js, tm.label())
	case r.opts.Cluster && tm.Kind == "ClusterNetworkPolicy" && tm.APIVersion == ClusterAPIVersion:
		r.cluster(file, node, js, tm.label())
	case Ignored(tm.APIVersion, tm.Kind):
		r.set.Ignored = append(r.set.Ignored, Skipped{File: file, Line: node.Line, Object: tm.label(), APIVersion: tm.APIVersion})
	default:
		r.fail(file, node.Line, tm.label(), unknownKind(tm))
	}
}

func unknownKind(tm typeMeta) error {
	err := fmt.Errorf("kind %s (apiVersion %s): %w", tm.Kind, tm.APIVersion, ErrUnknownKind)
	if strings.EqualFold(tm.Kind, "NetworkPolicy") || strings.EqualFold(tm.Kind, "NetworkPolicies") {
		err = fmt.Errorf("%w; did you mean NetworkPolicy?", err)
	}
	return err
}

// list reads the items of a kind: List.
func (r *reader) list(file string, node *yaml.Node, js []byte) {
	var l struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(js, &l); err != nil {
		r.fail(file, lineAt(node, "items"), "List", fmt.Errorf("items: %w", err))
		return
	}
	items := child(node, "items")
	for i, raw := range l.Items {
		item := node
		if items != nil && items.Kind == yaml.SequenceNode && i < len(items.Content) {
			item = items.Content[i]
		}
		r.object(file, item, raw, true)
	}
}

// decodeStrict decodes an object's JSON into into, refusing unknown and
// duplicate fields; it reports each problem at its line and says whether
// there was none.
func (r *reader) decodeStrict(file string, node *yaml.Node, js []byte, label string, into any) bool {
	strict, err := sigsjson.UnmarshalStrict(js, into, sigsjson.DisallowDuplicateFields, sigsjson.DisallowUnknownFields)
	if err != nil {
		r.fail(file, lineAt(node, jsonErrorPath(err)), label, err)
		return false
	}
	for _, e := range strict {
		r.fail(file, lineAt(node, strictErrorPath(e)), label, e)
	}
	return len(strict) == 0
}

// inNamespace puts an object without a namespace in the one kubectl
// would, with a warning, and returns its label as it then reads.
func (r *reader) inNamespace(file string, node *yaml.Node, kind string, m *metav1.ObjectMeta, label string) string {
	if m.Namespace != "" {
		return label
	}
	m.Namespace = r.opts.namespace()
	r.set.Warnings = append(r.set.Warnings, Warning{File: file, Line: node.Line, Object: kind + " " + m.Name,
		Message: fmt.Sprintf("no namespace: read as namespace %q (kubectl apply puts it in its context's namespace)", m.Namespace)})
	return kind + " " + m.Namespace + "/" + m.Name
}

// policy decodes a NetworkPolicy strictly, validates it and adds it.
func (r *reader) policy(file string, node *yaml.Node, js []byte, label string) {
	var p networkingv1.NetworkPolicy
	if !r.decodeStrict(file, node, js, label, &p) {
		return
	}
	label = r.inNamespace(file, node, "NetworkPolicy", &p.ObjectMeta, label)
	if errs := Validate(&p); len(errs) > 0 {
		for _, fe := range errs {
			r.fail(file, lineAt(node, fe.Field), label, &FieldError{Field: fe})
		}
		return
	}
	r.set.Policies = append(r.set.Policies, Policy{NetworkPolicy: p, File: file, Line: node.Line})
}

var quotedPath = regexp.MustCompile(`field "([^"]*)"`)

// strictErrorPath is the field an unknown or duplicate field error names.
func strictErrorPath(err error) string {
	if m := quotedPath.FindStringSubmatch(err.Error()); m != nil {
		return m[1]
	}
	return ""
}

var structField = regexp.MustCompile(`Go struct field [^ .]+\.(\S+) of type`)

// jsonErrorPath is the field a decoding error names, when it does.
func jsonErrorPath(err error) string {
	if m := structField.FindStringSubmatch(err.Error()); m != nil {
		return m[1]
	}
	return ""
}
