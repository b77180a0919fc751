package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/policyfile"
	"github.com/flowpol/flowpol/staged"
)

// stagedOptions say where the aggregator's staged policies come from:
// files, or the recommendation ConfigMap, which also gets an Event when
// a staged policy first would deny something.
type stagedOptions struct {
	dir        string
	configMap  string
	kubeconfig string
	refresh    time.Duration
}

func (o *stagedOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.dir, "staged", "", "stage the policies in this directory: every committed flow is decided under them, nothing is enforced")
	f.StringVar(&o.configMap, "staged-configmap", "", "stage the policies of this recommendation ConfigMap, NAMESPACE/NAME (its policies.yaml), and put an Event on it when one first would deny a flow")
	f.StringVar(&o.kubeconfig, "staged-kubeconfig", "", "the cluster of --staged-configmap (default: --kubeconfig, else the pod's service account)")
	f.Var(positiveDuration(&o.refresh, time.Minute), "staged-refresh", "how often --staged-configmap is read again")
	cmd.MarkFlagsMutuallyExclusive("staged", "staged-configmap")
}

// stagedSource is the staged set being followed: its tracker, and with a
// ConfigMap the client that reads it and records Events.
type stagedSource struct {
	tracker  *staged.Tracker
	cs       kubernetes.Interface
	ns, name string
	yaml     string // the ConfigMap's policies.yaml last read
	log      *slog.Logger
	now      func() time.Time
}

// open reads the staged set and the record stored with the baseline; nil
// when nothing is staged.
func (o *stagedOptions) open(ctx context.Context, store baseline.Store, clusterKubeconfig string, s Streams, log *slog.Logger) (*stagedSource, error) {
	if o.dir == "" && o.configMap == "" {
		return nil, nil
	}
	src := &stagedSource{log: log, now: s.now}
	var policies []networkingv1.NetworkPolicy
	var err error
	if o.dir != "" {
		policies, err = stagedFiles(o.dir, s)
	} else {
		policies, err = src.connect(ctx, o, clusterKubeconfig)
	}
	if err != nil {
		return nil, err
	}
	state, err := store.Attachment(ctx, staged.AttachmentName)
	if err != nil {
		return nil, err
	}
	if src.tracker, err = staged.New(staged.Options{Policies: policies, State: state, Now: s.now}); err != nil {
		return nil, fmt.Errorf("staged record in the baseline: %w", err)
	}
	return src, nil
}

func stagedFiles(dir string, s Streams) ([]networkingv1.NetworkPolicy, error) {
	set, err := policiesFromFiles(dir, s, policyfile.Options{})
	if err != nil {
		return nil, fmt.Errorf("--staged: %w", err)
	}
	return set.NetworkPolicies(), nil
}

// connect builds the client of --staged-configmap and reads it.
func (src *stagedSource) connect(ctx context.Context, o *stagedOptions, clusterKubeconfig string) ([]networkingv1.NetworkPolicy, error) {
	ns, name, ok := strings.Cut(o.configMap, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("--staged-configmap %q: want NAMESPACE/NAME", o.configMap)
	}
	kc := o.kubeconfig
	if kc == "" {
		kc = clusterKubeconfig
	}
	cfg, err := (&clusterOptions{kubeconfig: kc}).restConfig()
	if err != nil {
		return nil, fmt.Errorf("--staged-configmap: %w", err)
	}
	if src.cs, err = kubernetes.NewForConfig(cfg); err != nil {
		return nil, fmt.Errorf("client for %s: %w", cfg.Host, err)
	}
	src.ns, src.name = ns, name
	policies, _, err := src.read(ctx)
	return policies, err
}

// read reads the ConfigMap's policies; changed says whether they differ
// from the last read. A ConfigMap not there yet stages nothing.
func (src *stagedSource) read(ctx context.Context) (_ []networkingv1.NetworkPolicy, changed bool, _ error) {
	cm, err := src.cs.CoreV1().ConfigMaps(src.ns).Get(ctx, src.name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		cm = &corev1.ConfigMap{}
	case err != nil:
		return nil, false, fmt.Errorf("ConfigMap %s/%s: %w", src.ns, src.name, err)
	}
	y := cm.Data["policies.yaml"]
	if y == src.yaml && src.tracker != nil {
		return nil, false, nil
	}
	set, err := policyfile.Load("-", strings.NewReader(y), policyfile.Options{})
	if err != nil {
		return nil, false, fmt.Errorf("ConfigMap %s/%s, policies.yaml: %w", src.ns, src.name, err)
	}
	src.yaml = y
	return set.NetworkPolicies(), true, nil
}

// follow reads the ConfigMap again every refresh until ctx ends, and
// stages what changed; a failed read is logged and the set kept.
func (src *stagedSource) follow(ctx context.Context, refresh time.Duration) {
	if src == nil || src.cs == nil {
		return
	}
	tick := time.NewTicker(refresh)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		policies, changed, err := src.read(ctx)
		if err == nil && changed {
			err = src.tracker.Replace(policies)
			src.log.Info("staged policies changed", "configmap", src.ns+"/"+src.name, "policies", len(policies))
		}
		if err != nil && ctx.Err() == nil {
			src.log.Warn("staged policies not read again; keeping the set staged", "error", err)
		}
	}
}

// firstDenials records, on the ConfigMap, an Event for each staged
// policy that would deny something for the first time.
func (src *stagedSource) firstDenials(policies []string) {
	for _, p := range policies {
		src.log.Warn("staged policy would deny a flow for the first time", "policy", p)
	}
	if src.cs == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cm, err := src.cs.CoreV1().ConfigMaps(src.ns).Get(ctx, src.name, metav1.GetOptions{})
	if err != nil {
		src.log.Warn("no Event recorded", "error", err)
		return
	}
	var errs []error
	for _, p := range policies {
		errs = append(errs, src.event(ctx, cm, p))
	}
	if err := errors.Join(errs...); err != nil {
		src.log.Warn("no Event recorded", "error", err)
	}
}

func (src *stagedSource) event(ctx context.Context, cm *corev1.ConfigMap, policy string) error {
	now := metav1.NewTime(src.now())
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: cm.Name + ".", Namespace: cm.Namespace},
		InvolvedObject: corev1.ObjectReference{Kind: "ConfigMap", APIVersion: "v1", Namespace: cm.Namespace, Name: cm.Name,
			UID: cm.UID, ResourceVersion: cm.ResourceVersion},
		Reason:  "StagedPolicyWouldDeny",
		Message: fmt.Sprintf("staged NetworkPolicy %s would deny an observed flow (first time); see GET /api/v1/staged or flowpol staged", policy),
		Type:    corev1.EventTypeWarning, Source: corev1.EventSource{Component: "flowpol-aggregator"},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
	}
	if _, err := src.cs.CoreV1().Events(cm.Namespace).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("Event for %s: %w", policy, err)
	}
	return nil
}
