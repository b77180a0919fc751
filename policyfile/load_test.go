package policyfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const twice = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: twice, namespace: shop}\nspec: {podSelector: {}}\n"

const denyAll = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny-all, namespace: shop}\nspec: {podSelector: {}}\n"

// Whatever a file holds that is not a policy, an ignored kind or nothing
// is an error at its file and line: a policy set read only in part would
// make check report that nothing is denied.
func TestLoadRefuses(t *testing.T) {
	tests := []struct {
		name string
		data string
		line int
		want error
		text string
	}{
		{"a misspelled kind", "# deny\nkind: Networkpolicy\napiVersion: networking.k8s.io/v1\nmetadata: {name: deny-all, namespace: shop}\nspec: {podSelector: {}}\n", 2, ErrUnknownKind, "did you mean NetworkPolicy?"},
		{"an old API version", "apiVersion: networking.k8s.io/v1beta1\nkind: NetworkPolicy\nmetadata: {name: deny-all, namespace: shop}\nspec: {podSelector: {}}\n", 1, ErrAPIVersion, "NetworkPolicy shop/deny-all"},
		{"another kind", denyAll + "---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: c}\n", 6, ErrUnknownKind, "CiliumNetworkPolicy c"},
		{"a string", denyAll + "---\njust words\n", 6, ErrNotObject, ""},
		{"a list of strings", "- a\n- b\n", 1, ErrNotObject, ""},
		{"no kind", "apiVersion: v1\nmetadata: {name: x}\n", 1, ErrNotObject, ""},
		{"broken YAML", denyAll + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n   namespace: y\n", 10, nil, "YAML"},
		{"an unknown field", denyAll + "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: b, namespace: shop}\nspec:\n  podSelecter: {}\n", 10, nil, `unknown field "spec.podSelecter"`},
		{"a duplicate field", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: b, namespace: shop}\nspec:\n  podSelector: {}\n  podSelector: {}\n", 6, nil, "podSelector"},
		{"a wrong type", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: b, namespace: shop}\nspec:\n  podSelector: {}\n  ingress:\n  - ports:\n    - port: 80\n      endPort: \"90\"\n", 9, nil, "endPort"},
		{"an invalid field", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: b, namespace: shop}\nspec:\n  podSelector: {}\n  egress:\n  - to:\n    - ipBlock:\n        cidr: 10.0.0.0/16\n        except: [10.1.0.0/24]\n", 10, ErrInvalid, "strict subset"},
		{"a policy twice", twice + "---\n" + twice, 6, ErrDuplicate, "first at"},
		{"a List in a List", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items: []\n", 4, ErrNestedList, ""},
		{"a bad List item", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n  metadata: {name: x, namespace: shop}\n  spec: {podSelector: {}}\n- apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicie\n  metadata: {name: yy}\n", 8, ErrUnknownKind, "NetworkPolicie yy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "sub", "p.yaml")
			write(t, filepath.Join(dir, "a.yaml"), denyAll)
			write(t, file, tt.data)
			_, err := Load(dir, nil, Options{})
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v, want one at %s:%d", err, file, tt.line)
			}
			if pe.File != file || pe.Line != tt.line || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q, want %v at %s:%d with %q", err, tt.want, file, tt.line, tt.text)
			}
		})
	}
}

// Kinds that sit beside policies, and files that are not YAML, are listed
// as ignored; a policy without a namespace is warned about; Lists, JSON and
// empty documents are read.
func TestLoadReads(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "README.md"), "# policies\n")
	write(t, filepath.Join(dir, ".git", "config"), "[core]\n")
	write(t, filepath.Join(dir, "kustomization.yaml"), "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n")
	write(t, filepath.Join(dir, "a.yaml"), "---\n# nothing\n---\n"+denyAll+"---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n")
	write(t, filepath.Join(dir, "b", "list.yml"), "apiVersion: v1\nkind: List\nitems:\n- apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n  metadata: {name: web, namespace: shop}\n  spec: {podSelector: {matchLabels: {app: web}}}\n")
	write(t, filepath.Join(dir, "c.json"), `{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "nons"}, "spec": {"podSelector": {}}}`)
	set, err := Load(dir, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range set.Policies {
		got = append(got, p.Namespace+"/"+p.Name+"@"+filepath.Base(p.File))
	}
	if want := "shop/deny-all@a.yaml shop/web@list.yml default/nons@c.json"; strings.Join(got, " ") != want {
		t.Errorf("policies %v, want %s", got, want)
	}
	var ignored []string
	for _, s := range set.Ignored {
		ignored = append(ignored, filepath.Base(s.File)+":"+s.Object+s.Reason)
	}
	if want := ".git:a hidden directory README.md:not a .yaml, .yml or .json file a.yaml:Namespace shop kustomization.yaml:Kustomization"; strings.Join(ignored, " ") != want {
		t.Errorf("ignored %q, want %q", ignored, want)
	}
	if len(set.Warnings) != 1 || set.Warnings[0].File != filepath.Join(dir, "c.json") || !strings.Contains(set.Warnings[0].Message, `"default"`) {
		t.Errorf("warnings %+v, want one on c.json naming the default namespace", set.Warnings)
	}
}

func write(t testing.TB, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Standard input is read as one stream, named "-" in errors.
func TestLoadStdin(t *testing.T) {
	set, err := Load("-", strings.NewReader(denyAll), Options{Namespace: "ignored"})
	if err != nil || len(set.Policies) != 1 || set.Policies[0].File != "-" {
		t.Fatalf("set %+v, error %v: want deny-all from -", set, err)
	}
	_, err = Load("-", strings.NewReader(denyAll+"---\nkind: NetworkPolicy\n"), Options{})
	var pe *Error
	if !errors.As(err, &pe) || pe.File != "-" || pe.Line != 6 || !errors.Is(err, ErrNotObject) {
		t.Errorf("error %v, want -:6 not an object", err)
	}
}
