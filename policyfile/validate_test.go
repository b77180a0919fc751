package policyfile

import (
	"errors"
	"strings"
	"testing"
)

// Each policy is accepted or refused as the API server accepts or refuses
// it (TestAPIServerAgrees asks one), and a refusal names the field, the
// policy and the line.
func TestValidate(t *testing.T) {
	for _, tc := range policyCases {
		t.Run(tc.name, func(t *testing.T) {
			set, err := Read(strings.NewReader(tc.doc), "p.yaml", Options{})
			if tc.invalid == "" {
				if err != nil {
					t.Fatalf("refused a valid policy: %v", err)
				}
				if len(set.Policies) != 1 {
					t.Fatalf("%d policies, want 1", len(set.Policies))
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted a policy whose %s the API server refuses", tc.invalid)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v: not a field error", err)
			}
			if fe.Field.Field != tc.invalid {
				t.Errorf("refused %s (%v), want %s", fe.Field.Field, err, tc.invalid)
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.File != "p.yaml" || pe.Line < 1 || !strings.HasPrefix(pe.Object, "NetworkPolicy shop/") {
				t.Errorf("error %q does not name the file, line and policy", err)
			}
		})
	}
}
