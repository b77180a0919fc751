package policyfile

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzRead checks that no input panics Read, that every error names a
// line of the input, and that every policy it returns is valid, named and
// namespaced.
func FuzzRead(f *testing.F) {
	for _, tc := range policyCases {
		f.Add([]byte(tc.doc))
	}
	f.Add([]byte(denyAll + "---\napiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: Namespace, metadata: {name: a}}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := Read(bytes.NewReader(data), "fuzz.yaml", Options{})
		if err != nil {
			lines := bytes.Count(data, []byte("\n")) + 1
			for _, e := range unjoin(err) {
				var pe *Error
				if !errors.As(e, &pe) || pe.File != "fuzz.yaml" || pe.Line < 1 || pe.Line > lines {
					t.Fatalf("error %q names no line of the %d-line input", e, lines)
				}
			}
			return
		}
		for _, p := range set.Policies {
			if p.Name == "" || p.Namespace == "" || len(Validate(&p.NetworkPolicy)) > 0 {
				t.Fatalf("returned an invalid policy %+v", p.NetworkPolicy)
			}
		}
	})
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
