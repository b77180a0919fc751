package inventory

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/iotest"
)

const podJSON = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"api-1","namespace":"shop"}`

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
		want string // the whole message, or its beginning when it ends in "..."
		is   error
	}{
		{
			name: "YAML syntax in the second document",
			in:   "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p: q\n",
			line: 9,
			want: "cluster.yaml:9: yaml: mapping values are not allowed in this context",
		},
		{
			// The parser names the line its block began on (9); the
			// offending line is 10.
			name: "YAML parser error",
			in:   "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n namespace: x\n",
			line: 10,
			want: "cluster.yaml:10: yaml: did not find expected key",
		},
		{
			name: "YAML syntax without a line",
			in:   "kind: Namespace\n---\n# x\n\tkind: Pod\n",
			line: 4,
			want: "cluster.yaml:4: yaml: found character that cannot start any token",
		},
		{
			name: "YAML ends in a string",
			in:   "kind: Namespace\n---\nkind: Pod\nmetadata:\n  name: \"p\n",
			line: 5,
			want: "cluster.yaml:5: yaml: found unexpected end of stream",
		},
		{
			// Not a List: its items are no objects, but broken all the same.
			name: "YAML syntax in an item after one that is no object",
			in:   "kind: Namespace\nmetadata: {name: a}\nitems:\n- 1\n- \"x\n",
			line: 5,
			want: "cluster.yaml:5: yaml: found unexpected end of stream",
		},
		{
			name: "bad separator",
			in:   "kind: Namespace\n---\napiVersion: v1\n--- kind: Pod\n",
			line: 4,
			want: "cluster.yaml:4: invalid Yaml document separator: kind: Pod",
		},
		{
			name: "content after document end",
			in:   "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n...\n# fine\nkind: Pod\n",
			line: 6,
			want: `cluster.yaml:6: content after the document end marker "..."`,
			is:   ErrAfterDocEnd,
		},
		{
			name: "no kind",
			in:   "---\n# a comment\napiVersion: v1\nmetadata:\n  name: x\n",
			line: 3,
			want: "cluster.yaml:3: missing kind",
			is:   ErrNoKind,
		},
		{
			name: "kind not a string",
			in:   "apiVersion: v1\nkind: 5\n",
			line: 1,
			want: "cluster.yaml:1: json: cannot unmarshal number into Go struct field object.kind of type string",
		},
		{
			name: "document not an object",
			in:   "kind: Namespace\nmetadata: {name: a}\napiVersion: v1\n---\n- kind: Pod\n",
			line: 5,
			want: "cluster.yaml:5: not an object",
			is:   ErrNotObject,
		},
		{
			name: "List item without kind",
			in:   "apiVersion: v1\nkind: List\nitems:\n- kind: Namespace\n  apiVersion: v1\n  metadata: {name: a}\n- metadata: {name: b}\n",
			line: 7,
			want: "cluster.yaml:7: items[1]: missing kind",
			is:   ErrNoKind,
		},
		{
			name: "List item not an object",
			in:   `{"apiVersion":"v1","kind":"List","items":[7]}`,
			line: 1,
			want: "cluster.yaml:1: items[0]: not an object",
			is:   ErrNotObject,
		},
		{
			name: "List items not a list",
			in:   "\n\nkind: List\nitems: {a: 1}\n",
			line: 3,
			want: "cluster.yaml:3: List: json: cannot unmarshal object into Go struct field list.items of type []json.RawMessage",
		},
		{
			// Alone, "{a: 1}x" parses as {a: 1}; as a sequence entry it
			// does not, in an object's items as in a List's.
			name: "text after a flow mapping in items",
			in:   "apiVersion: v1\nkind: Pod\nitems:\n- {a: 1}x\n",
			line: 4,
			want: "cluster.yaml:4: yaml: did not find expected '-' indicator",
		},
		{
			name: "text after a flow mapping in a List's items",
			in:   "kind: List\nitems:\n- kind: Namespace\n  apiVersion: v1\n  metadata: {name: a}\n- {kind: Namespace}x\n",
			line: 6,
			want: "cluster.yaml:6: yaml: did not find expected '-' indicator",
		},
		{
			name: "List inside a List",
			in:   "kind: List\nitems:\n- kind: List\n  items: []\n",
			line: 3,
			want: "cluster.yaml:3: items[0] (List): List inside a List",
			is:   ErrNestedList,
		},
		{
			name: "JSON type error in a List item",
			in:   "\n" + `{"apiVersion":"v1","kind":"List","items":[` + "\n" + podJSON + `},` + "\n" + podJSON + `,"spec":{"containers":"api"}}]}`,
			line: 4,
			want: "cluster.yaml:4: items[1] (Pod shop/api-1): json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type []v1.Container",
		},
		{
			name: "missing name",
			in:   "kind: Namespace\napiVersion: v1\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  namespace: shop\n",
			line: 5,
			want: "cluster.yaml:5: Service: missing metadata.name",
			is:   ErrNoName,
		},
		{
			name: "missing Node name",
			in:   `{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Node"}]}`,
			line: 1,
			want: "cluster.yaml:1: items[0] (Node): missing metadata.name",
			is:   ErrNoName,
		},
		{
			name: "bad podIP",
			in:   "apiVersion: v1\nkind: Pod\nmetadata: {name: api-1, namespace: shop}\nstatus:\n  podIP: 10.0.0.300\n",
			line: 1,
			want: `cluster.yaml:1: Pod shop/api-1: status.podIP: invalid IP address: ParseAddr("10.0.0.300"): IPv4 field has value >255`,
			is:   ErrBadIP,
		},
		{
			name: "bad podIPs in a List",
			in:   "apiVersion: v1\nkind: List\nitems:\n- " + podJSON + `,"status":{"podIPs":[{"ip":"10.0.0.3"},{"ip":"fd00::1::2"}]}}` + "\n",
			line: 4,
			want: `cluster.yaml:4: items[0] (Pod shop/api-1): status.podIPs[1].ip: invalid IP address: ParseAddr("fd00::1::2"): ...`,
			is:   ErrBadIP,
		},
		{
			name: "bad clusterIP",
			in:   "apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: shop}\nspec:\n  clusterIP: none\n",
			line: 1,
			want: `cluster.yaml:1: Service shop/api: spec.clusterIP: invalid IP address: ParseAddr("none"): ...`,
			is:   ErrBadIP,
		},
		{
			name: "bad clusterIPs",
			in:   "apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: shop}\nspec:\n  clusterIP: 10.96.0.1\n  clusterIPs: [10.96.0.1, 'fd00::1/128']\n",
			line: 1,
			want: `cluster.yaml:1: Service shop/api: spec.clusterIPs[1]: invalid IP address: ParseAddr("fd00::1/128"): ...`,
			is:   ErrBadIP,
		},
		{
			name: "bad node address",
			in:   "apiVersion: v1\nkind: Node\nmetadata: {name: node-a}\nstatus:\n  addresses:\n  - {type: Hostname, address: node-a}\n  - {type: ExternalIP, address: node-a.example}\n",
			line: 1,
			want: `cluster.yaml:1: Node node-a: status.addresses[1].address: invalid IP address: ParseAddr("node-a.example"): ...`,
			is:   ErrBadIP,
		},
		{
			name: "bad endpoint address",
			in:   "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: api-x, namespace: shop}\naddressType: IPv6\nendpoints:\n- addresses: ['fd00::1']\n- addresses: ['fd00::2', 'api.shop']\n",
			line: 1,
			want: `cluster.yaml:1: EndpointSlice shop/api-x: endpoints[1].addresses[1]: invalid IP address: ParseAddr("api.shop"): ...`,
			is:   ErrBadIP,
		},
		{
			name: "after empty documents",
			in:   "---\n---\n# c\n--- # next\n\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus: {podIP: bad}\n---",
			line: 6,
			want: `cluster.yaml:6: Pod p: status.podIP: invalid IP address: ...`,
			is:   ErrBadIP,
		},
		{
			name: "CRLF line ends",
			in:   "apiVersion: v1\r\nkind: Namespace\r\nmetadata: {name: a}\r\n---\r\n\r\napiVersion: v1\r\nkind: Pod\r\nmetadata: {name: p}\r\nstatus: {podIP: x}\r\n",
			line: 6,
			want: `cluster.yaml:6: Pod p: status.podIP: invalid IP address: ...`,
			is:   ErrBadIP,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := Load(strings.NewReader(tt.in), "cluster.yaml")
			if err == nil {
				t.Fatalf("no error, got %d objects", inv.Objects())
			}
			if inv != nil {
				t.Errorf("got an Inventory with the error")
			}
			checkMessage(t, err, tt.want)
			var le *LineError
			if !errors.As(err, &le) || le.Line != tt.line || le.File != "cluster.yaml" {
				t.Errorf("error %#v, want a *LineError for cluster.yaml line %d", err, tt.line)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
}

func checkMessage(t testing.TB, err error, want string) {
	t.Helper()
	if prefix, ok := strings.CutSuffix(want, "..."); ok {
		if !strings.HasPrefix(err.Error(), prefix) {
			t.Errorf("error %q, want it to start with %q", err, prefix)
		}
		return
	}
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

func TestLoadReadError(t *testing.T) {
	boom := errors.New("boom")
	_, err := Load(iotest.ErrReader(boom), "cluster.yaml")
	if !errors.Is(err, boom) || err.Error() != "read cluster.yaml: boom" {
		t.Errorf("error %v, want read cluster.yaml: boom", err)
	}
}

func TestLoadFileMissing(t *testing.T) {
	_, err := LoadFile("testdata/missing.yaml")
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "testdata/missing.yaml") {
		t.Errorf("error %v, want one naming testdata/missing.yaml that is fs.ErrNotExist", err)
	}
}

func TestLoadFileErrorNamesPath(t *testing.T) {
	path := t.TempDir() + "/bad.yaml"
	writeFile(t, path, "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\nkind: Pod\napiVersion: v1\n")
	_, err := LoadFile(path)
	checkMessage(t, err, path+":5: Pod: missing metadata.name")
}
