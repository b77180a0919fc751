package generator

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestWriteDir fails if writing policies to a directory, on every core,
// writes other bytes than MarshalObject's under the header, keeps the
// files of policies no longer generated, removes files flowpol did not
// write, or of two policies with one file name keeps another than the
// last.
func TestWriteDir(t *testing.T) {
	dir := t.TempDir()
	policy := func(ns, name, ann string) networkingv1.NetworkPolicy {
		return networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			Annotations: map[string]string{AnnotationEvidence: ann}}}
	}
	var first []networkingv1.NetworkPolicy
	for i := range 300 {
		first = append(first, policy(fmt.Sprintf("ns%d", i%7), fmt.Sprintf("p%d", i), "first"))
	}
	if _, err := WriteDir(dir, first); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(dir, "mine.yaml")
	if err := os.WriteFile(mine, []byte("kind: ConfigMap\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	second := append(first[100:], policy("ns0", "p105", "last of its name"))
	removed, err := WriteDir(dir, second)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, p := range first[:100] {
		want = append(want, FileName(&p))
	}
	slices.Sort(want)
	if !slices.Equal(removed, want) {
		t.Errorf("removed %q, want %q", removed, want)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 201 {
		t.Errorf("%d files in the directory, want the 200 policies' and mine.yaml", len(entries))
	}
	for _, p := range second[:len(second)-1] {
		if p.Name == "p105" {
			p = second[len(second)-1]
		}
		assertFile(t, filepath.Join(dir, FileName(&p)), &p)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("a file flowpol did not write is gone: %v", err)
	}
}

// TestWriteDirNamesTheFile fails if an unwritable file's error does not
// name it, or if a failed run removes the files of earlier runs.
func TestWriteDirNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "gone.yaml")
	if err := os.WriteFile(stale, []byte(header), 0o644); err != nil {
		t.Fatal(err)
	}
	var ps []networkingv1.NetworkPolicy
	for i := range 50 {
		ps = append(ps, networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: fmt.Sprintf("api%d", i)}})
	}
	if err := os.Mkdir(filepath.Join(dir, "shop.api25.yaml"), 0o755); err != nil { // a directory cannot be renamed over
		t.Fatal(err)
	}
	_, err := WriteDir(dir, ps)
	if err == nil || !strings.Contains(err.Error(), "write "+filepath.Join(dir, "shop.api25.yaml")) {
		t.Fatalf("got %v, want an error naming shop.api25.yaml", err)
	}
	if _, err := os.Stat(stale); err != nil {
		t.Errorf("a failed run removed an earlier run's file: %v", err)
	}
}

func assertFile(t *testing.T, path string, o Object) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := MarshalObject(o)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != header+string(b) {
		t.Errorf("%s holds\n%s\nwant\n%s", path, got, header+string(b))
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("%s has mode %v, want 0644", path, fi.Mode().Perm())
	}
}

// trimmedObject marshals to the zero creationTimestamp and status that
// MarshalObject leaves out.
type trimmedObject struct {
	Metadata struct {
		A                 string `json:"a"`
		CreationTimestamp *int   `json:"creationTimestamp"`
		Name              string `json:"name"`
	} `json:"metadata"`
	Spec   map[string]string `json:"spec"`
	Status struct{}          `json:"status"`
}

func (o *trimmedObject) GetName() string      { return o.Metadata.Name }
func (o *trimmedObject) GetNamespace() string { return "" }

// TestMarshalObjectTrims fails if MarshalObject keeps a zero
// creationTimestamp or an empty status, or removes more than them.
func TestMarshalObjectTrims(t *testing.T) {
	o := &trimmedObject{Spec: map[string]string{"creationTimestamp": "null"}}
	o.Metadata.A, o.Metadata.Name = "x", "obj"
	got, err := MarshalObject(o)
	if err != nil {
		t.Fatal(err)
	}
	want := "metadata:\n  a: x\n  name: obj\nspec:\n  creationTimestamp: \"null\"\n"
	if string(got) != want {
		t.Errorf("MarshalObject wrote\n%s\nwant\n%s", got, want)
	}
}
