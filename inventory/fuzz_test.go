package inventory

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// FuzzLoad checks that no input panics Load, that every error names a line
// of the input, and that what it accepts is accounted for: each object of
// the input is kept in the slice of its kind, with a name, or counted in
// Skipped.
func FuzzLoad(f *testing.F) {
	// Small seeds only: the fuzzer minimizes each new input it finds, which
	// takes long for large ones. More seeds are in testdata/fuzz/FuzzLoad.
	for _, path := range []string{"testdata/multi.yaml", "testdata/crlf.yaml"} {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := Load(bytes.NewReader(data), "fuzz.yaml")
		if err != nil {
			checkErrorLine(t, err, data)
			return
		}
		if got, want := inv.Objects()+skipped(t, inv), countObjects(t, data); got != want {
			t.Fatalf("kept %d and skipped %v, want %d objects in all", inv.Objects(), inv.Skipped, want)
		}
		checkKept(t, inv)
	})
}

func checkErrorLine(t testing.TB, err error, data []byte) {
	t.Helper()
	var le *LineError
	if !errors.As(err, &le) {
		t.Fatalf("error without a line: %v", err)
	}
	if lines := bytes.Count(data, []byte("\n")) + 1; le.Line < 1 || le.Line > lines {
		t.Fatalf("error on line %d of %d: %v", le.Line, lines, err)
	}
}

func skipped(t testing.TB, inv *Inventory) int {
	t.Helper()
	n := 0
	for kind, c := range inv.Skipped {
		if kind == "" || c < 1 {
			t.Fatalf("Skipped[%q] = %d", kind, c)
		}
		n += c
	}
	return n
}

// countObjects counts the objects in data without decoding them: one per
// document, or the items of a List.
func countObjects(t testing.TB, data []byte) int {
	t.Helper()
	docs, err := readDocuments(data)
	if err != nil {
		t.Fatalf("Load accepted what the reader refuses: %v", err)
	}
	n := 0
	for _, doc := range docs {
		n += countDocument(t, doc)
	}
	return n
}

// readDocuments splits data into its YAML documents as apimachinery's
// reader does.
func readDocuments(data []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, doc)
	}
}

func countDocument(t testing.TB, doc []byte) int {
	t.Helper()
	js, err := yaml.YAMLToJSON(doc)
	if json.Valid(doc) {
		js, err = doc, nil
	}
	var v map[string]any
	if err == nil {
		err = json.Unmarshal(js, &v)
	}
	if err != nil {
		t.Fatalf("Load accepted a document that does not decode: %v\n%s", err, doc)
	}
	switch items, _ := v["items"].([]any); {
	case v == nil:
		return 0
	case v["kind"] == "List":
		return len(items)
	}
	return 1
}

// checkKept checks that each slice holds named objects of its kind.
func checkKept(t testing.TB, inv *Inventory) {
	t.Helper()
	checkObjects(t, inv.Namespaces, "v1", "Namespace")
	checkObjects(t, inv.Nodes, "v1", "Node")
	checkObjects(t, inv.Pods, "v1", "Pod")
	checkObjects(t, inv.Services, "v1", "Service")
	checkObjects(t, inv.EndpointSlices, "discovery.k8s.io/v1", "EndpointSlice")
	checkObjects(t, inv.ReplicaSets, "apps/v1", "ReplicaSet")
	checkObjects(t, inv.Deployments, "apps/v1", "Deployment")
	checkObjects(t, inv.StatefulSets, "apps/v1", "StatefulSet")
	checkObjects(t, inv.DaemonSets, "apps/v1", "DaemonSet")
	checkObjects(t, inv.Jobs, "batch/v1", "Job")
	checkObjects(t, inv.CronJobs, "batch/v1", "CronJob")
}

func checkObjects[T any, P interface {
	*T
	GetName() string
	GroupVersionKind() schema.GroupVersionKind
}](t testing.TB, objs []T, apiVersion, kind string) {
	t.Helper()
	for i := range objs {
		p := P(&objs[i])
		if gvk := p.GroupVersionKind(); gvk.Kind != kind || gvk.GroupVersion().String() != apiVersion || p.GetName() == "" {
			t.Fatalf("%s[%d] is %v named %q", kind, i, gvk, p.GetName())
		}
	}
}
