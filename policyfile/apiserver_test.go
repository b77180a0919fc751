package policyfile

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/flowpol/flowpol/internal/kubeenv"
)

// A real API server, asked in a server-side dry run with strict field
// validation, refuses exactly the policies Validate refuses, and names the
// same field: a validator that let one through would let check pass a
// policy set the cluster would not take.
func TestAPIServerAgrees(t *testing.T) {
	env := kubeenv.Start(t)
	cs := env.Client()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range policyCases {
		t.Run(tc.name, func(t *testing.T) {
			js, err := sigsyaml.YAMLToJSONStrict([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			err = cs.NetworkingV1().RESTClient().Post().Namespace("shop").Resource("networkpolicies").
				Param("dryRun", metav1.DryRunAll).Param("fieldValidation", "Strict").
				SetHeader("Content-Type", "application/json").Body(js).Do(ctx).Error()
			_, ours := Read(strings.NewReader(tc.doc), "p.yaml", Options{})
			switch {
			case err == nil && ours != nil:
				t.Fatalf("the API server accepts it; we refuse it: %v", ours)
			case err != nil && ours == nil:
				t.Fatalf("the API server refuses it (%v); we accept it", err)
			case err != nil && !slices.Contains(causeFields(err), tc.invalid):
				t.Errorf("the API server refuses %v (%v); we refuse %s", causeFields(err), err, tc.invalid)
			}
		})
	}
}

// causeFields are the fields an Invalid error from the API server names.
func causeFields(err error) []string {
	var se *apierrors.StatusError
	if !errors.As(err, &se) || se.ErrStatus.Details == nil {
		return nil
	}
	var out []string
	for _, c := range se.ErrStatus.Details.Causes {
		out = append(out, c.Field)
	}
	return out
}
