package inventory

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestBlockJSON(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		fast     bool // blockJSON converts it, rather than the YAML parser
	}{
		{"pod", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: api-1\n  labels:\n    app.kubernetes.io/name: api\n", true},
		{"List entry", "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: a\n", true},
		{"sequence at its key's column", "ports:\n- port: 80\n  name: http\n- port: 443\nselector: {}\n", true},
		{"sequence indented", "ports:\n  - port: 80\n    protocol: TCP\n  - 8080\n", true},
		{"entry indented past its dash", "-   a: 1\n    b: 2\n-  c\n", true},
		{"comments", "# head\na: 1 # one\n\n  # indented\nb: \"x\" # two\nc: 'y'  # three\n", true},
		{"empty collections", "a: {}\nb: []\nc: {} # none\n", true},
		{"booleans and null", "a: true\nb: False\nc: NULL\nd: ~\ne:\nf: x\n", true},
		{"integers", "a: 0\nb: 8080\nc: 123456789012345678\n", true},
		{"strings that look like numbers", "ip: 10.244.0.2\nv: 1.2.3\nmem: 128Mi\ncpu: 100m\nwait: 30s\n", true},
		{"quoted keys", "\"on\": 1\n'no': 2\n\"a b\": 3\n", true},
		{"double-quoted escapes", "a: \"x\\\"y\\\\z\\n\\t\\r\"\n", true},
		{"single-quoted quote", "a: 'it''s \"q\" \\ '\n", true},
		{"plain with quotes and colons", "a: say \"hi\"\nurl: http://x:80/p\nb: a#b\n", true},
		{"nested sequences of mappings", "a:\n  b:\n  - c:\n    - d: 1\n      e: 2\n    f: 3\n  g: 4\n", true},
		{"duplicate keys", "a: 1\na: 2\n", true},

		{"yes is a boolean", "a: yes\n", false},
		{"on as a key", "on: 1\n", false},
		{"octal", "a: 0777\n", false},
		{"float", "a: 1.5\n", false},
		{"exponent", "a: 1e3\n", false},
		{"hex", "a: 0x1F\n", false},
		{"hex with letters", "a: 0x12abc\n", false},
		{"underscores", "a: 1_000\n", false},
		{"negative", "a: -1\n", false},
		{"too large", "a: 1234567890123456789\n", false},
		{"timestamp", "a: 2026-11-01\n", false},
		{"infinity", "a: .inf\n", false},
		{"numeric key", "80: http\n", false},
		{"key with a blank before its colon", "a : 1\n", false},
		{"key after a comment", "a #b: c\n", false},
		{"multi-line plain", "a: one\n  two\n", false},
		{"multi-line plain entry", "- one\n  two\n", false},
		{"multi-line quoted", "a: \"one\n  two\"\n", false},
		{"block scalar", "a: |\n  text\n", false},
		{"folded scalar", "a: >-\n  text\n", false},
		{"anchor", "a: &x 1\nb: *x\n", false},
		{"merge", "a: {}\n<<: {}\n", false},
		{"tag", "a: !!str 1\n", false},
		{"flow mapping", "a: {b: 1}\n", false},
		{"flow sequence", "a: [1, 2]\n", false},
		{"unicode escape", "a: \"\\u00e9\"\n", false},
		{"yaml escape", "a: \"\\x41\"\n", false},
		{"escaped slash, which YAML 1.1 does not know", "a: \"\\/\"\n", false},
		{"uid", "uid: 6b1c1f6e-0000-4000-8000-000000000001\nb: 1234abcd-0000\n", true},
		{"flags", "args:\n- --port=8080\n- -v\n", true},
		{"quantity with a dot", "a: 1.5Gi\n", false},
		{"infinity with a sign", "a: -.inf\n", false},
		{"sign and digit", "a: -1x\n", false},
		{"non-ASCII", "a: café\n", false},
		{"tab", "a:\t1\n", false},
		{"carriage return", "a: 1\r\n", false},
		{"mapping in a plain value", "a: b: c\n", false},
		{"plain ending in a colon", "a: b:\n", false},
		{"text after a quoted value", "a: \"b\" c\n", false},
		{"bad indentation", "a:\n    b: 1\n  c: 2\n", false},
		{"scalar under a key", "a:\n  text\n", false},
		{"dash alone", "-\n  a: 1\n", false},
		{"sequence in a sequence", "- - a\n", false},
		{"document marker", "a: 1\n---\nb: 2\n", false},
		{"end marker", "a: 1\n...\n", false},
		{"only comments", "# nothing\n", false},
		{"empty", "", false},
		{"plain scalar document", "text\n", false},
		{"unterminated quote", "a: \"b\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ok := blockJSON([]byte(tc.in))
			if ok != tc.fast {
				t.Fatalf("blockJSON converted it: %v, want %v", ok, tc.fast)
			}
			checkBlockJSON(t, []byte(tc.in))
		})
	}
}

// TestBlockJSONFiles converts the documents of the repository's YAML test
// inputs and checks that they decode as the YAML parser's JSON does, and
// that inventories as kubectl writes them and real applications'
// manifests take the fast path.
func TestBlockJSONFiles(t *testing.T) {
	list := filepath.Join(t.TempDir(), "list.yaml")
	writeBenchInventory(t, list, 20)
	for _, tc := range []struct {
		pattern string
		fast    float64 // the least share of documents blockJSON converts
	}{
		{list, 1},
		{"testdata/list.yaml", 1},
		{"../testdata/realapps/*.yaml", 0.9},
		{"testdata/*.yaml", 0},
		{"../testdata/*/*.yaml", 0},
		{"../testdata/*/*/*.yaml", 0},
	} {
		paths, err := filepath.Glob(tc.pattern)
		if err != nil || len(paths) == 0 {
			t.Fatalf("%s: no files (%v)", tc.pattern, err)
		}
		docs, fast := 0, 0
		for _, path := range paths {
			n, f := checkBlockJSONFile(t, path)
			docs, fast = docs+n, fast+f
		}
		t.Logf("%s: %d of %d documents converted without the YAML parser", tc.pattern, fast, docs)
		if float64(fast) < tc.fast*float64(docs) {
			t.Errorf("%s: %d of %d documents converted without the YAML parser, want %.0f%%", tc.pattern, fast, docs, 100*tc.fast)
		}
	}
}

// checkBlockJSONFile checks each document of a YAML file and returns how
// many it holds and how many blockJSON converted.
func checkBlockJSONFile(t *testing.T, path string) (docs, fast int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	all, err := readDocuments(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, doc := range all {
		if isFiller(bytes.TrimSpace(doc)) {
			continue // comments only
		}
		docs++
		if _, ok := blockJSON(doc); ok {
			fast++
		}
		checkBlockJSON(t, doc)
	}
	return docs, fast
}

// FuzzBlockJSON checks that what blockJSON converts, the YAML parser
// reads, and to the same values.
func FuzzBlockJSON(f *testing.F) {
	for _, s := range []string{
		"- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: a\n    labels: {}\n  spec:\n    containers:\n    - name: c\n      ports:\n      - containerPort: 80\n",
		"a: 'x''y'\nb: \"q\\\"\"\nc: 10.0.0.1\nd: 30s\ne: true\nf:\ng: []\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkBlockJSON(t, data)
	})
}

// checkBlockJSON fails when blockJSON converts in to JSON that decodes to
// other values than the YAML parser's, or converts what the parser refuses.
func checkBlockJSON(t *testing.T, in []byte) {
	t.Helper()
	got, ok := blockJSON(in)
	if !ok {
		return
	}
	want, err := yaml.YAMLToJSON(in)
	if err != nil {
		t.Fatalf("blockJSON converted what the YAML parser refuses (%v):\n%s", err, in)
	}
	if g, w := decodeAny(t, got), decodeAny(t, want); !reflect.DeepEqual(g, w) {
		t.Fatalf("blockJSON: %s\nYAML parser: %s\ninput:\n%s", got, want, in)
	}
}

func decodeAny(t *testing.T, js []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(js))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("invalid JSON %s: %v", js, err)
	}
	return v
}
