package cli

import (
	"context"
	"fmt"
	"time"

	ciliumv2 "github.com/cilium/cilium/pkg/k8s/apis/cilium.io/v2"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	cnp "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/flowpol/flowpol/policyfile"
)

// policiesFromFiles reads the policy files at path ("-" for standard
// input) and says on standard error what it ignored and what may not mean
// what it says. Any file it cannot read whole is an error.
func policiesFromFiles(path string, s Streams, opts policyfile.Options) (*policyfile.Set, error) {
	set, err := policyfile.Load(path, s.In, opts)
	if err != nil {
		return nil, err
	}
	for _, ig := range set.Ignored {
		fmt.Fprintf(s.Err, "ignored: %s\n", ignoredText(ig))
	}
	for _, w := range set.Warnings {
		fmt.Fprintf(s.Err, "warning: %s:%d: %s: %s\n", w.File, w.Line, w.Object, w.Message)
	}
	return set, nil
}

func ignoredText(ig policyfile.Skipped) string {
	if ig.Object == "" {
		return fmt.Sprintf("%s (%s)", ig.File, ig.Reason)
	}
	return fmt.Sprintf("%s:%d: %s (%s, a kind policy files may hold beside policies)", ig.File, ig.Line, ig.Object, ig.APIVersion)
}

// policiesFromCluster lists the cluster's NetworkPolicies.
func policiesFromCluster(ctx context.Context, kubeconfig string) ([]networkingv1.NetworkPolicy, error) {
	cfg, err := (&clusterOptions{kubeconfig: kubeconfig}).restConfig()
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	list, err := cs.NetworkingV1().NetworkPolicies("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list NetworkPolicies at %s: %w", cfg.Host, err)
	}
	return list.Items, nil
}

// clusterGVR is where the API serves ClusterNetworkPolicies.
var clusterGVR = schema.GroupVersionResource{Group: "policy.networking.k8s.io", Version: "v1beta1", Resource: "clusternetworkpolicies"}

// clusterPoliciesFromCluster lists the cluster's ClusterNetworkPolicies;
// none when the API does not serve them (their CRD is not installed).
func clusterPoliciesFromCluster(ctx context.Context, kubeconfig string) ([]cnp.ClusterNetworkPolicy, error) {
	return listCustom[cnp.ClusterNetworkPolicy](ctx, kubeconfig, clusterGVR, "ClusterNetworkPolicy", "ClusterNetworkPolicies", true)
}

// ciliumGVR is where the API serves CiliumNetworkPolicies.
var ciliumGVR = schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumnetworkpolicies"}

// ciliumFromCluster lists the cluster's CiliumNetworkPolicies.
func ciliumFromCluster(ctx context.Context, kubeconfig string) ([]ciliumv2.CiliumNetworkPolicy, error) {
	return listCustom[ciliumv2.CiliumNetworkPolicy](ctx, kubeconfig, ciliumGVR, "CiliumNetworkPolicy", "CiliumNetworkPolicies", false)
}

// listCustom lists the objects of a custom resource in every namespace,
// as T; a resource the API does not serve is none when missingOK, else
// an error. kind and kinds name one and many in errors.
func listCustom[T any](ctx context.Context, kubeconfig string, gvr schema.GroupVersionResource, kind, kinds string, missingOK bool) ([]T, error) {
	cfg, err := (&clusterOptions{kubeconfig: kubeconfig}).restConfig()
	if err != nil {
		return nil, err
	}
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	list, err := dc.Resource(gvr).List(ctx, metav1.ListOptions{})
	if missingOK && apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s at %s: %w", kinds, cfg.Host, err)
	}
	out := make([]T, len(list.Items))
	for i := range list.Items {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(list.Items[i].Object, &out[i]); err != nil {
			name := list.Items[i].GetName()
			if ns := list.Items[i].GetNamespace(); ns != "" {
				name = ns + "/" + name
			}
			return nil, fmt.Errorf("%s %s at %s: %w", kind, name, cfg.Host, err)
		}
	}
	return out, nil
}
