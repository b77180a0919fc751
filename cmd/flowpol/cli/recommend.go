package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/flowpol/flowpol/generator"
	"github.com/flowpol/flowpol/ingest/wire"
)

// fieldManager is flowpol's name in server-side apply.
const fieldManager = "flowpol"

// maxConfigMapBytes is what a ConfigMap's data may hold.
const maxConfigMapBytes = 1 << 20

type recommendOptions struct {
	windowOptions
	generationOptions
	kubeconfig string
	configMap  string
	apply      bool
	promote    time.Duration
}

func newRecommendCommand(s Streams) *cobra.Command {
	o := &recommendOptions{}
	cmd := &cobra.Command{
		Use:   "recommend (--server URL | --db FILE) --configmap NS/NAME [--window 24h] [--apply [--promote-after 7d]]",
		Short: "Generate policies, diff them against the cluster's, and publish both in a ConfigMap",
		Long: `Recommend is the scheduled job's command: it generates the policies for the
window, as generate does, compares them with the cluster's NetworkPolicies, as
diff does, and publishes the policies, the diff and a summary in a ConfigMap
(policies.yaml, diff.txt, summary.txt), and on standard output for the job's
log. It changes no policy unless --apply is given; then it first asks the API
server to dry-run every policy it would write, and applies them (server-side
apply, field manager flowpol) only when all would be accepted. It only ever
writes policies flowpol manages: a policy of the same name that flowpol does
not manage is an error. Policies diff would remove are listed, not deleted.
With --promote-after D (and --server), --apply applies only the policies the
aggregator has staged with the same spec for D and found clean for D; the
summary says why each other one stays staged.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRecommend(cmd.Context(), o, s)
		},
	}
	o.windowOptions.addFlags(cmd)
	o.generationOptions.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "the cluster, through this kubeconfig (default: the pod's service account)")
	f.StringVar(&o.configMap, "configmap", "", "publish the recommendation in this ConfigMap, NAMESPACE/NAME")
	f.BoolVar(&o.apply, "apply", false, "apply the generated policies, after a server-side dry run of every one")
	f.Var(nonNegativeDuration(&o.promote, 0), "promote-after", "with --apply and --server: apply only the policies the aggregator has staged, unchanged, and found clean (no would-deny) for this long, e.g. 7d")
	cmd.MarkFlagRequired("configmap")
	return cmd
}

// recommendation is one run's result.
type recommendation struct {
	policies []networkingv1.NetworkPolicy
	apply    []networkingv1.NetworkPolicy // what --apply applies: all, or those promoted
	held     []string                     // with --promote-after, the policies kept staged and why
	notes    []string                     // the generator's warnings and what it held back, for the summary
	changes  []generator.Change
	yaml     string // the policies as one YAML stream
	diff     string
	summary  string
	took     time.Duration
}

func runRecommend(ctx context.Context, o *recommendOptions, s Streams) error {
	ns, name, ok := strings.Cut(o.configMap, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return fmt.Errorf("--configmap %q: want NAMESPACE/NAME", o.configMap)
	}
	cfg, err := (&clusterOptions{kubeconfig: o.kubeconfig}).restConfig()
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("client for %s: %w", cfg.Host, err)
	}
	if err := o.checkPromote(); err != nil {
		return err
	}
	rec, err := o.recommend(ctx, cs, s)
	if err != nil {
		return err
	}
	if o.apply {
		if err := applyPolicies(ctx, cs, rec.apply, true); err != nil {
			return fmt.Errorf("dry run, nothing applied: %w", err)
		}
	}
	if err := publish(ctx, cs, ns, name, rec, o.apply); err != nil {
		return err
	}
	if o.apply {
		if err := applyPolicies(ctx, cs, rec.apply, false); err != nil {
			return err
		}
	}
	fmt.Fprintf(s.Out, "%s\n%s\n%s", rec.summary, rec.diff, rec.yaml)
	o.report(ctx, rec, s.Err)
	return nil
}

// recommend generates the policies and diffs them against the cluster's.
func (o *recommendOptions) recommend(ctx context.Context, cs kubernetes.Interface, s Streams) (*recommendation, error) {
	warn := s.Err
	list, err := cs.NetworkingV1().NetworkPolicies("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list NetworkPolicies: %w", err)
	}
	start := time.Now()
	w, err := o.read(warn)
	if err != nil {
		return nil, err
	}
	opts, err := o.options()
	if err != nil {
		return nil, err
	}
	res := generator.Generate(w, opts)
	rec := &recommendation{policies: res.Policies, apply: res.Policies, took: time.Since(start), notes: notes(res)}
	reportGenerate(warn, res, opts.SkipNamespaces)
	if o.apply {
		if err := checkOwnership(list.Items, res.Policies); err != nil {
			return nil, err
		}
	}
	rec.changes = generator.Diff(opts.InScope(list.Items), res.Policies)
	var y, d bytes.Buffer
	if err := generator.WriteStream(&y, res.Policies); err != nil {
		return nil, err
	}
	if err := generator.WriteDiff(&d, rec.changes); err != nil {
		return nil, err
	}
	rec.yaml, rec.diff = y.String(), d.String()
	if o.promote > 0 {
		if err := o.promotion(ctx, rec, s.now()); err != nil {
			return nil, err
		}
	}
	rec.summary = summarize(rec, w.From, w.To, o.apply)
	return rec, nil
}

// notes are a generation's warnings and held-back lines, as the
// ConfigMap's summary lists them: a CronJob that did not run inside the
// window, a workload observed too briefly, are for whoever reads it.
func notes(res *generator.Result) []string {
	out := make([]string, 0, len(res.Warnings)+len(res.HeldBack))
	for _, w := range res.Warnings {
		out = append(out, "warning: "+w)
	}
	for _, h := range res.HeldBack {
		out = append(out, "held back: "+h)
	}
	return out
}

// checkOwnership refuses to write over a policy flowpol does not manage.
func checkOwnership(there, generated []networkingv1.NetworkPolicy) error {
	theirs := map[string]bool{}
	for _, p := range there {
		if p.Labels[generator.LabelManagedBy] != generator.ManagedBy {
			theirs[p.Namespace+"/"+p.Name] = true
		}
	}
	var errs []error
	for _, p := range generated {
		if theirs[p.Namespace+"/"+p.Name] {
			errs = append(errs, fmt.Errorf("NetworkPolicy %s/%s exists and flowpol does not manage it (no %s=%s label): not overwriting it",
				p.Namespace, p.Name, generator.LabelManagedBy, generator.ManagedBy))
		}
	}
	return errors.Join(errs...)
}

func summarize(rec *recommendation, from, to time.Time, apply bool) string {
	kinds := map[string]int{}
	for _, c := range rec.changes {
		kinds[c.Kind]++
	}
	applied := "no (--apply not given)"
	if apply {
		applied = fmt.Sprintf("yes: %d policies (server-side apply, after a dry run)", len(rec.apply))
	}
	for _, h := range rec.held {
		applied += "\nstill staged: " + h
	}
	for _, n := range rec.notes {
		applied += "\n" + n
	}
	return fmt.Sprintf("flowpol recommendation\ngenerated: %s\nwindow: %s/%s\npolicies: %d\nchanges: %d added, %d changed, %d to remove (never removed automatically)\ngenerate took: %.3fs\napplied: %s\n",
		time.Now().UTC().Format(time.RFC3339), from.Format(time.RFC3339), to.Format(time.RFC3339),
		len(rec.policies), kinds["add"], kinds["change"], kinds["remove"], rec.took.Seconds(), applied)
}

// publish writes the recommendation to the ConfigMap in one server-side
// apply.
func publish(ctx context.Context, cs kubernetes.Interface, ns, name string, rec *recommendation, apply bool) error {
	data := map[string]string{"policies.yaml": rec.yaml, "diff.txt": rec.diff, "summary.txt": rec.summary}
	size := 0
	for k, v := range data {
		size += len(k) + len(v)
	}
	if size > maxConfigMapBytes {
		return fmt.Errorf("ConfigMap %s/%s: the recommendation is %d bytes, more than a ConfigMap holds (%d); narrow it with --namespace, or use generate -o DIR",
			ns, name, size, maxConfigMapBytes)
	}
	cm := corev1ac.ConfigMap(name, ns).WithLabels(map[string]string{generator.LabelManagedBy: generator.ManagedBy}).WithData(data)
	if _, err := cs.CoreV1().ConfigMaps(ns).Apply(ctx, cm, metav1.ApplyOptions{FieldManager: fieldManager, Force: true}); err != nil {
		return fmt.Errorf("publish ConfigMap %s/%s: %w", ns, name, err)
	}
	return nil
}

// applyPolicies applies the policies with server-side apply, or only asks
// the API server whether it would (dryRun); every refusal is reported,
// naming the policy.
func applyPolicies(ctx context.Context, cs kubernetes.Interface, policies []networkingv1.NetworkPolicy, dryRun bool) error {
	opts := metav1.PatchOptions{FieldManager: fieldManager, Force: ptrTo(true)}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	var errs []error
	for i := range policies {
		p := policies[i]
		p.TypeMeta = metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"}
		body, err := json.Marshal(&p)
		if err == nil {
			_, err = cs.NetworkingV1().NetworkPolicies(p.Namespace).Patch(ctx, p.Name, types.ApplyPatchType, body, opts)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("NetworkPolicy %s/%s: %w", p.Namespace, p.Name, err))
			if !dryRun {
				return errors.Join(errs...) // stop at the first: the API server accepted them all a moment ago
			}
		}
	}
	return errors.Join(errs...)
}

func ptrTo[T any](v T) *T { return &v }

// report tells the aggregator, when the baseline came from one, how the
// run went, for its metrics; a failure is only a warning.
func (o *recommendOptions) report(ctx context.Context, rec *recommendation, warn io.Writer) {
	if !o.server.given() {
		return
	}
	c, err := o.server.client()
	if err == nil {
		err = c.Report(ctx, wire.Report{GenerateSeconds: rec.took.Seconds(), Policies: len(rec.policies), Changes: len(rec.changes)})
	}
	if err != nil {
		fmt.Fprintf(warn, "warning: %v\n", err)
	}
}
