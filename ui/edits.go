package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/flowpol/flowpol/generator"
	"github.com/flowpol/flowpol/overrides"
	"github.com/flowpol/flowpol/topology"
)

// EditsRequest is the page's state: the observed edges whose boxes are
// unticked, the rules it adds, the selectors it chooses, and the workload
// it shows (for its policy alone). All asks for every policy's YAML too,
// which at thousands of workloads is megabytes: the page asks for it only
// while its All tab is open.
type EditsRequest struct {
	Unticked  []int                        `json:"unticked"`
	Allow     []overrides.AllowEdit        `json:"allow"`
	Selectors map[string]map[string]string `json:"selectors"`
	Workload  string                       `json:"workload"`
	All       bool                         `json:"all,omitempty"`
}

// Preview is what generate gives for the page's edits.
type Preview struct {
	// All is every policy, as generate writes them to standard output,
	// when the request asked for it (else empty); Selected the selected
	// workload's alone.
	All      string `json:"all"`
	Selected string `json:"selected"`
	// Diff is against the policies there: a summary, then the YAML's
	// unified diff; empty when none were given.
	Diff     string   `json:"diff"`
	Policies int      `json:"policies"`
	Warnings []string `json:"warnings"`
	// Excluded are the ids of the edges the edited overrides exclude.
	Excluded []int `json:"excluded"`
}

// Saved says what was written.
type Saved struct {
	File  string `json:"file"`
	Bytes int    `json:"bytes"`
}

func (s *Server) handlePreview(w http.ResponseWriter, r *http.Request) {
	req, err := decodeEdits(w, r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	p, err := s.preview(req)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, p)
}

func (s *Server) handleSave(w http.ResponseWriter, r *http.Request) {
	req, err := decodeEdits(w, r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if s.opts.OverridesPath == "" {
		writeError(w, http.StatusConflict, errors.New("no overrides file: start flowpol ui with --overrides FILE to save"))
		return
	}
	s.saving.Lock()
	defer s.saving.Unlock()
	data, err := s.edited(req)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if err := generator.WriteAtomic(s.opts.OverridesPath, data); err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, Saved{File: s.opts.OverridesPath, Bytes: len(data)})
}

func decodeEdits(w http.ResponseWriter, r *http.Request) (*EditsRequest, error) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return nil, fmt.Errorf("content type %q: want application/json", ct)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	var req EditsRequest
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("edits: %w", err)
	}
	return &req, nil
}

// overridesName is how errors and evidence name the overrides file.
func (s *Server) overridesName() string {
	if s.opts.OverridesPath == "" {
		return "overrides"
	}
	return s.opts.OverridesPath
}

// readOverrides reads the overrides file as it is now: a missing one is
// empty.
func (s *Server) readOverrides() (*overrides.Set, []byte, error) {
	var data []byte
	if s.opts.OverridesPath != "" {
		var err error
		data, err = os.ReadFile(s.opts.OverridesPath)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, err
		}
	}
	ov, err := overrides.Parse(bytes.NewReader(data), s.overridesName())
	return ov, data, err
}

// edited is the overrides file with the page's edits, as saving writes it.
func (s *Server) edited(req *EditsRequest) ([]byte, error) {
	ov, data, err := s.readOverrides()
	if err != nil {
		return nil, err
	}
	ed, err := s.edits(req, ov)
	if err != nil {
		return nil, err
	}
	return overrides.Rewrite(data, s.overridesName(), ed)
}

// edits turns the page's state into changes of the file as it is now:
// an unticked edge the file does not exclude gets an entry; a ticked edge
// the file excludes by an entry of its own loses it.
func (s *Server) edits(req *EditsRequest, ov *overrides.Set) (overrides.Edits, error) {
	edges := s.opts.Window.Edges
	unticked := make(map[int]bool, len(req.Unticked))
	for _, id := range req.Unticked {
		if id < 0 || id >= len(edges) {
			return overrides.Edits{}, fmt.Errorf("edits: no edge %d", id)
		}
		unticked[id] = true
	}
	ed := overrides.Edits{Allow: req.Allow}
	for i, e := range edges {
		x, excluded := ov.Excludes(e)
		_, exact := ov.ExactExclusion(e.Edge)
		switch {
		case unticked[i] && !excluded:
			ed.Exclude = append(ed.Exclude, e.Edge)
		case !unticked[i] && exact:
			ed.Include = append(ed.Include, e.Edge)
		case !unticked[i] && excluded:
			return ed, fmt.Errorf("%s: excluded by %s:%d, an entry broader than this edge: edit the file to allow it", Label(e.Edge), ov.File, x.Line)
		}
	}
	if len(req.Selectors) > 0 {
		ed.Selectors = map[topology.WorkloadRef]map[string]string{}
	}
	for key, labels := range req.Selectors {
		ref, err := parseRef(key)
		if err != nil {
			return ed, fmt.Errorf("selectors: %w", err)
		}
		ed.Selectors[ref] = labels
	}
	return ed, nil
}

func parseRef(s string) (topology.WorkloadRef, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return topology.WorkloadRef{}, fmt.Errorf("workload %q: want namespace/Kind/name", s)
	}
	return topology.WorkloadRef{Namespace: parts[0], Kind: parts[1], Name: parts[2]}, nil
}

// preview generates from the overrides file as saving would write it.
func (s *Server) preview(req *EditsRequest) (*Preview, error) {
	data, err := s.edited(req)
	if err != nil {
		return nil, err
	}
	ov, err := overrides.Parse(bytes.NewReader(data), s.overridesName())
	if err != nil {
		return nil, err
	}
	opts := s.opts.Generate.WithOverrides(ov)
	res := generator.Generate(s.opts.Window, opts)
	p := &Preview{Policies: len(res.Policies), Warnings: append(res.Warnings, res.Unmatched...)}
	if req.All {
		if p.All, err = stream(res.Policies); err != nil {
			return nil, err
		}
	}
	if req.Workload != "" {
		ref, err := parseRef(req.Workload)
		if err != nil {
			return nil, err
		}
		if p.Selected, err = stream(policiesOf(res.Policies, ref)); err != nil {
			return nil, err
		}
	}
	for i, e := range s.opts.Window.Edges {
		if _, ok := ov.Excludes(e); ok {
			p.Excluded = append(p.Excluded, i)
		}
	}
	if s.opts.HavePolicies {
		var b strings.Builder
		if err := generator.WriteDiff(&b, generator.Diff(opts.InScope(s.opts.Policies), res.Policies)); err != nil {
			return nil, err
		}
		p.Diff = b.String()
	}
	return p, nil
}

func stream(ps []networkingv1.NetworkPolicy) (string, error) {
	var b strings.Builder
	err := generator.WriteStream(&b, ps)
	return b.String(), err
}

// policiesOf are the generated policies that are the workload's own.
func policiesOf(ps []networkingv1.NetworkPolicy, ref topology.WorkloadRef) []networkingv1.NetworkPolicy {
	name := generator.PolicyName(ref)
	var out []networkingv1.NetworkPolicy
	for _, p := range ps {
		if p.Namespace == ref.Namespace && p.Name == name {
			out = append(out, p)
		}
	}
	return out
}
