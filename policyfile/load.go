package policyfile

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
)

// Options say how to read policy files.
type Options struct {
	// Namespace is the namespace of a policy that names none; zero means
	// "default", where kubectl apply without a context namespace puts it.
	Namespace string
	// Cilium reads cilium.io/v2 CiliumNetworkPolicies too, into the set's
	// Cilium; without it they are an unknown kind, as for commands that
	// evaluate NetworkPolicies only.
	Cilium bool
	// Cluster reads policy.networking.k8s.io/v1beta1 ClusterNetworkPolicies
	// too, into the set's Cluster; without it they are an unknown kind.
	Cluster bool
}

func (o Options) namespace() string {
	return cmp.Or(o.Namespace, "default")
}

// Policy is a NetworkPolicy and where it was read.
type Policy struct {
	networkingv1.NetworkPolicy
	File string
	Line int
}

// Skipped is an object or a file that was not read, and why.
type Skipped struct {
	File string
	Line int // 0 for a whole file
	// Object is the kind and name ("Deployment shop/api"); empty for a
	// file.
	Object     string
	APIVersion string
	// Reason is why a whole file was skipped.
	Reason string
}

// Warning is something read that may not mean what it says.
type Warning struct {
	File    string
	Line    int
	Object  string
	Message string
}

// Set is what a policy file, directory or stream holds.
type Set struct {
	Policies []Policy
	Cilium   []CiliumPolicy  // with Options.Cilium
	Cluster  []ClusterPolicy // with Options.Cluster
	// Ignored are the objects of kinds Ignored names, and the files under
	// a directory that are not YAML or JSON, in file order.
	Ignored  []Skipped
	Warnings []Warning
}

// NetworkPolicies are the set's policies, in file order.
func (s *Set) NetworkPolicies() []networkingv1.NetworkPolicy {
	out := make([]networkingv1.NetworkPolicy, len(s.Policies))
	for i, p := range s.Policies {
		out[i] = p.NetworkPolicy
	}
	return out
}

// Files maps each policy, "namespace/name", to its file.
func (s *Set) Files() map[string]string {
	out := make(map[string]string, len(s.Policies))
	for _, p := range s.Policies {
		out[p.Namespace+"/"+p.Name] = p.File
	}
	return out
}

// extensions are the file names read under a directory.
var extensions = []string{".yaml", ".yml", ".json"}

// Load reads a policy file, every YAML and JSON file under a directory
// (recursively; other files, and directories whose names start with a
// dot, are listed as ignored), or, for "-", stdin. Every problem in every
// file is reported, as *Error values joined into one error; a set is only
// returned when there are none.
func Load(path string, stdin io.Reader, opts Options) (*Set, error) {
	r := &reader{opts: opts, set: &Set{}}
	if path == "-" {
		data, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("read policies from standard input: %w", err)
		}
		r.file("-", data)
	} else if err := r.walk(path); err != nil {
		return nil, err
	}
	return r.finish()
}

// Read reads one stream of policies, named name in errors.
func Read(in io.Reader, name string, opts Options) (*Set, error) {
	data, err := io.ReadAll(in)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	r := &reader{opts: opts, set: &Set{}}
	r.file(name, data)
	return r.finish()
}

func (r *reader) walk(root string) error {
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case p == root && !d.IsDir():
		case d.IsDir() && p != root && strings.HasPrefix(d.Name(), "."):
			r.set.Ignored = append(r.set.Ignored, Skipped{File: p, Reason: "a hidden directory"})
			return fs.SkipDir
		case d.IsDir():
			return nil
		case !slices.Contains(extensions, strings.ToLower(filepath.Ext(p))):
			r.set.Ignored = append(r.set.Ignored, Skipped{File: p, Reason: "not a .yaml, .yml or .json file"})
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		r.file(p, data)
		return nil
	})
	if err != nil {
		return fmt.Errorf("read policies: %w", err)
	}
	return nil
}

func (r *reader) file(name string, data []byte) {
	for _, d := range split(data) {
		r.document(name, d)
	}
}

// finish refuses a policy defined twice, and returns the set or every
// error found.
func (r *reader) finish() (*Set, error) {
	seen := map[string]Policy{}
	for _, p := range r.set.Policies {
		key := p.Namespace + "/" + p.Name
		if first, ok := seen[key]; ok {
			r.fail(p.File, p.Line, "NetworkPolicy "+key, fmt.Errorf("%w: first at %s:%d", ErrDuplicate, first.File, first.Line))
			continue
		}
		seen[key] = p
	}
	r.ciliumTwice()
	r.clusterTwice()
	if len(r.errs) > 0 {
		return nil, errors.Join(r.errs...)
	}
	return r.set, nil
}

// ignoredKinds are the kinds that sit beside policies and are ignored, by
// API group ("" is the core group), in any version.
var ignoredKinds = map[string][]string{
	"":                          {"ConfigMap", "LimitRange", "Namespace", "ResourceQuota", "Secret", "Service", "ServiceAccount"},
	"apps":                      {"DaemonSet", "Deployment", "StatefulSet"},
	"batch":                     {"CronJob", "Job"},
	"rbac.authorization.k8s.io": {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"},
	"kustomize.config.k8s.io":   {"Component", "Kustomization"},
}

// Ignored says whether a kind is one that policy files are read past.
func Ignored(apiVersion, kind string) bool {
	group, _, ok := strings.Cut(apiVersion, "/")
	if !ok {
		group = ""
	}
	return slices.Contains(ignoredKinds[group], kind)
}
