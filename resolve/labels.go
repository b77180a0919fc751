package resolve

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// IsUnstableLabel reports labels that change from one pod, revision or run
// to the next; a policy that selected on them would stop matching after the
// next rollout.
func IsUnstableLabel(key string) bool {
	switch key {
	case "pod-template-hash", "controller-revision-hash", "pod-template-generation",
		"statefulset.kubernetes.io/pod-name", "apps.kubernetes.io/pod-index",
		"job-name", "controller-uid":
		return true
	}
	return strings.HasPrefix(key, "batch.kubernetes.io/")
}

// StableSelector returns sel without unstable keys, or nil when nothing is
// left to select on.
func StableSelector(sel *metav1.LabelSelector) *metav1.LabelSelector {
	if sel == nil {
		return nil
	}
	out := &metav1.LabelSelector{}
	for k, v := range sel.MatchLabels {
		if !IsUnstableLabel(k) {
			if out.MatchLabels == nil {
				out.MatchLabels = map[string]string{}
			}
			out.MatchLabels[k] = v
		}
	}
	for _, req := range sel.MatchExpressions {
		if !IsUnstableLabel(req.Key) {
			out.MatchExpressions = append(out.MatchExpressions, *req.DeepCopy())
		}
	}
	if len(out.MatchLabels) == 0 && len(out.MatchExpressions) == 0 {
		return nil
	}
	return out
}

// LabelSelector selects on a set of labels, less the unstable ones.
func LabelSelector(labels map[string]string) *metav1.LabelSelector {
	return StableSelector(&metav1.LabelSelector{MatchLabels: labels})
}

// CommonLabels returns the labels every set has with the same value.
func CommonLabels(sets []map[string]string) map[string]string {
	if len(sets) == 0 {
		return nil
	}
	out := map[string]string{}
	for k, v := range sets[0] {
		out[k] = v
	}
	for _, s := range sets[1:] {
		for k, v := range out {
			if s[k] != v {
				delete(out, k)
			}
		}
	}
	return out
}
