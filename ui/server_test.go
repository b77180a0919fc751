package ui_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/generator"
	"github.com/flowpol/flowpol/overrides"
	"github.com/flowpol/flowpol/topology"
	"github.com/flowpol/flowpol/ui"
)

// smallWindow: checkout calls email, an external address and the API
// server.
func smallWindow() *topology.Window {
	to := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	w := &topology.Window{From: to.Add(-3 * time.Hour), To: to, Workloads: map[topology.WorkloadRef]topology.Workload{}}
	var ends []topology.End
	for _, name := range []string{"checkout", "email"} {
		r := topology.WorkloadRef{Namespace: "shop", Kind: "Deployment", Name: name}
		w.Workloads[r] = topology.Workload{Ref: r, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}}
		ends = append(ends, topology.End{Kind: topology.KindWorkload, Workload: r})
	}
	for _, e := range []topology.Edge{
		{Src: ends[0], Dst: ends[1], Port: 8080, Proto: flow.TCP},
		{Src: ends[0], Dst: topology.End{Kind: topology.KindAPIServer}, Port: 6443, Proto: flow.TCP},
		{Src: ends[0], Dst: topology.End{Kind: topology.KindExternal, Addr: netip.MustParseAddr("203.0.113.7")}, Port: 443, Proto: flow.TCP},
	} {
		w.Edges = append(w.Edges, topology.EdgeStats{Edge: e, Count: 3, First: w.From, Last: to.Add(-time.Minute)})
	}
	return w
}

type client struct {
	t     *testing.T
	url   string
	token string
}

func newClient(t *testing.T, opts ui.Options) *client {
	srv, err := ui.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &client{t: t, url: hs.URL, token: srv.Token()}
}

func (c *client) do(method, path string, body any, out any) int {
	c.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, c.url+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(ui.TokenHeader, c.token)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer r.Body.Close()
	if out != nil {
		if err := json.NewDecoder(r.Body).Decode(out); err != nil {
			c.t.Fatal(err)
		}
	}
	return r.StatusCode
}

// The model says which boxes can be ticked; saving keeps what the file
// had, adds the unticked edge exactly, and refuses to allow an edge that a
// broader entry excludes; the preview is what generate gives with the
// file as saving writes it.
func TestEditAndSave(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "overrides.yaml")
	const before = "# ours\nexclude:\n  - to: 203.0.113.0/24 # the old partner\n"
	if err := os.WriteFile(path, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	win := smallWindow()
	c := newClient(t, ui.Options{Window: win, OverridesPath: path})
	var m ui.Model
	if code := c.do(http.MethodGet, "/api/model", nil, &m); code != http.StatusOK {
		t.Fatalf("model: %d", code)
	}
	labels := map[string]ui.Edge{}
	for _, e := range m.Edges {
		labels[e.Label] = e
	}
	toEmail := labels["shop/Deployment/checkout -> shop/Deployment/email 8080/TCP"]
	toAPI := labels["shop/Deployment/checkout -> apiserver 6443/TCP"]
	toExt := labels["shop/Deployment/checkout -> external/203.0.113.7 443/TCP"]
	if toEmail.ExcludedBy != "" || toEmail.Fixed != "" {
		t.Errorf("checkout -> email: %+v, want allowed and free to untick", toEmail)
	}
	if !strings.Contains(toAPI.Fixed, "no override can name") {
		t.Errorf("checkout -> apiserver: %+v, want fixed: no override names it", toAPI)
	}
	if toExt.ExcludedBy != path+":3" || toExt.Exact || toExt.Fixed == "" {
		t.Errorf("checkout -> external: %+v, want excluded by %s:3, broadly", toExt, path)
	}
	if len(m.Nodes) != 4 {
		t.Errorf("%d nodes, want the 2 workloads, the API server and the external", len(m.Nodes))
	}

	edits := ui.EditsRequest{Unticked: []int{toEmail.ID, toExt.ID}, Workload: "shop/Deployment/checkout"}
	var p ui.Preview
	if code := c.do(http.MethodPost, "/api/preview", edits, &p); code != http.StatusOK {
		t.Fatalf("preview: %d", code)
	}
	if !slices.Equal(p.Excluded, []int{toEmail.ID, toExt.ID}) {
		t.Errorf("preview excludes %v, want %v", p.Excluded, []int{toEmail.ID, toExt.ID})
	}
	// Every policy's YAML only when asked for: the All tab's.
	if p.All != "" {
		t.Errorf("a preview not asking for all policies has them:\n%s", p.All)
	}
	edits.All = true
	if code := c.do(http.MethodPost, "/api/preview", edits, &p); code != http.StatusOK {
		t.Fatalf("preview with all: %d", code)
	}
	if code := c.do(http.MethodPost, "/api/save", edits, nil); code != http.StatusOK {
		t.Fatalf("save: %d", code)
	}
	saved, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := before + "  - from: shop/Deployment/checkout\n    to: shop/Deployment/email\n    ports: [\"8080/TCP\"]\n"
	if string(saved) != want {
		t.Errorf("saved:\n%s\nwant:\n%s", saved, want)
	}
	ov, err := overrides.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	if err := generator.WriteStream(&all, generator.Generate(win, generator.Options{}.WithOverrides(ov)).Policies); err != nil {
		t.Fatal(err)
	}
	if p.All != all.String() {
		t.Errorf("the preview is not what generate gives with the saved file:\n%s\nwant:\n%s", p.All, all.String())
	}
	if !strings.Contains(p.Selected, "name: flowpol-deployment-checkout") || strings.Contains(p.Selected, "name: flowpol-deployment-email") {
		t.Errorf("the selected workload's policy:\n%s", p.Selected)
	}

	var e struct{ Error string }
	edits.Unticked = []int{toEmail.ID}
	if code := c.do(http.MethodPost, "/api/save", edits, &e); code != http.StatusBadRequest || !strings.Contains(e.Error, "an entry broader than this edge") {
		t.Errorf("ticking an edge a broad entry excludes: %d %q, want 400 naming the entry", code, e.Error)
	}
	if again, _ := os.ReadFile(path); string(again) != want {
		t.Errorf("a refused save changed the file:\n%s", again)
	}
	edits.Unticked = []int{99}
	if code := c.do(http.MethodPost, "/api/save", edits, &e); code != http.StatusBadRequest || !strings.Contains(e.Error, "no edge 99") {
		t.Errorf("an unknown edge: %d %q", code, e.Error)
	}
}

// Without --overrides the page previews but cannot save.
func TestSaveWithoutFile(t *testing.T) {
	c := newClient(t, ui.Options{Window: smallWindow()})
	var e struct{ Error string }
	if code := c.do(http.MethodPost, "/api/save", ui.EditsRequest{}, &e); code != http.StatusConflict || !strings.Contains(e.Error, "--overrides") {
		t.Errorf("save without a file: %d %q", code, e.Error)
	}
}

// Requests without the token, with a wrong one, writes without the
// header, and requests naming another host are refused.
func TestAuthorize(t *testing.T) {
	c := newClient(t, ui.Options{Window: smallWindow()})
	tests := []struct {
		name, method, path, header, host string
		want                             int
	}{
		{name: "no token", method: http.MethodGet, path: "/", want: http.StatusUnauthorized},
		{name: "wrong token", method: http.MethodGet, path: "/?token=nope", want: http.StatusForbidden},
		{name: "token", method: http.MethodGet, path: "/?token=" + c.token, want: http.StatusOK},
		{name: "token in the header", method: http.MethodGet, path: "/api/model", header: c.token, want: http.StatusOK},
		{name: "write with the token in the query only", method: http.MethodPost, path: "/api/preview?token=" + c.token, want: http.StatusForbidden},
		{name: "write with a wrong header", method: http.MethodPost, path: "/api/preview", header: "nope", want: http.StatusForbidden},
		{name: "another host", method: http.MethodGet, path: "/?token=" + c.token, host: "flowpol.example:80", want: http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, c.url+tt.path, strings.NewReader(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if tt.header != "" {
				req.Header.Set(ui.TokenHeader, tt.header)
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			r, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r.Body.Close()
			if r.StatusCode != tt.want {
				t.Errorf("%s %s: %d, want %d", tt.method, tt.path, r.StatusCode, tt.want)
			}
		})
	}
}
