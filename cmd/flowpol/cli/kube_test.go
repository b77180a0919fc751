package cli_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/flowpol/flowpol/cmd/flowpol/cli"
	"github.com/flowpol/flowpol/internal/kubeenv"
	"github.com/flowpol/flowpol/inventory"
)

// createAll creates an inventory's objects in the API server, setting pod
// and node status through the status subresource, and returns the uids the
// server gave the pods, by the uids the inventory had.
func createAll(t testing.TB, cs kubernetes.Interface, inv *inventory.Inventory) map[string]string {
	t.Helper()
	ctx := context.Background()
	check := func(what string, err error) {
		t.Helper()
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("create %s: %v", what, err)
		}
	}
	for _, o := range inv.Namespaces {
		_, err := cs.CoreV1().Namespaces().Create(ctx, clean(&o), metav1.CreateOptions{})
		check("namespace "+o.Name, err)
	}
	for _, o := range inv.Nodes {
		n, err := cs.CoreV1().Nodes().Create(ctx, clean(&o), metav1.CreateOptions{})
		check("node "+o.Name, err)
		n.Status = o.Status
		_, err = cs.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
		check("node status "+o.Name, err)
	}
	createControllers(t, cs, inv, check)
	for _, o := range inv.Services {
		if o.Namespace == "default" && o.Name == "kubernetes" {
			continue // the API server makes its own
		}
		_, err := cs.CoreV1().Services(o.Namespace).Create(ctx, clean(&o), metav1.CreateOptions{})
		check("service "+o.Name, err)
	}
	for _, o := range inv.EndpointSlices {
		_, err := cs.DiscoveryV1().EndpointSlices(o.Namespace).Create(ctx, clean(&o), metav1.CreateOptions{})
		check("endpointslice "+o.Name, err)
	}
	uids := map[string]string{}
	for _, o := range inv.Pods {
		p, err := cs.CoreV1().Pods(o.Namespace).Create(ctx, clean(&o), metav1.CreateOptions{})
		check("pod "+o.Name, err)
		p.Status = o.Status
		_, err = cs.CoreV1().Pods(o.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
		check("pod status "+o.Name, err)
		uids[string(o.UID)] = string(p.UID)
	}
	return uids
}

func createControllers(t testing.TB, cs kubernetes.Interface, inv *inventory.Inventory, check func(string, error)) {
	t.Helper()
	ctx := context.Background()
	for _, o := range inv.Deployments {
		_, err := cs.AppsV1().Deployments(o.Namespace).Create(ctx, clean(&o), metav1.CreateOptions{})
		check("deployment "+o.Name, err)
	}
	for _, o := range inv.ReplicaSets {
		_, err := cs.AppsV1().ReplicaSets(o.Namespace).Create(ctx, clean(&o), metav1.CreateOptions{})
		check("replicaset "+o.Name, err)
	}
	for _, o := range inv.StatefulSets {
		_, err := cs.AppsV1().StatefulSets(o.Namespace).Create(ctx, clean(&o), metav1.CreateOptions{})
		check("statefulset "+o.Name, err)
	}
	for _, o := range inv.DaemonSets {
		_, err := cs.AppsV1().DaemonSets(o.Namespace).Create(ctx, clean(&o), metav1.CreateOptions{})
		check("daemonset "+o.Name, err)
	}
	for _, o := range inv.CronJobs {
		_, err := cs.BatchV1().CronJobs(o.Namespace).Create(ctx, clean(&o), metav1.CreateOptions{})
		check("cronjob "+o.Name, err)
	}
	for _, o := range inv.Jobs {
		j := clean(&o)
		// The server makes a Job's selector and labels its pods itself.
		j.Spec.Selector = nil
		j.Spec.Template.Labels = stableOnly(j.Spec.Template.Labels)
		_, err := cs.BatchV1().Jobs(o.Namespace).Create(ctx, j, metav1.CreateOptions{})
		check("job "+o.Name, err)
	}
}

func stableOnly(labels map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range labels {
		if k != "job-name" && k != "controller-uid" && !strings.HasPrefix(k, "batch.kubernetes.io/") {
			out[k] = v
		}
	}
	return out
}

// clean returns a copy of an object as a client would create it.
func clean[T any, P interface {
	*T
	metav1.Object
}](o P) P {
	c := P(new(T))
	*c = *o
	c.SetUID("")
	c.SetResourceVersion("")
	c.SetCreationTimestamp(metav1.Time{})
	return c
}

// The live cluster gives the same policies as its inventory file, and the
// API server accepts every one of them.
func TestLearnFromLiveCluster(t *testing.T) {
	env := kubeenv.Start(t)
	cs := env.Client()
	inv, err := inventory.LoadFile(repoFile("testdata", "example", "cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	uids := createAll(t, cs, inv)
	flows := rewriteUIDs(t, repoFile("testdata", "example", "flows.jsonl"), uids)
	db := filepath.Join(t.TempDir(), "f.db")
	r := mustRun(t, "learn", "--from", flows, "--kubeconfig", env.Kubeconfig, "--db", db, "--max-wait", "1s")
	if !strings.Contains(r.out, "unresolved ends: 1 no pod or service has this cluster address") {
		t.Errorf("summary:\n%s", r.out)
	}
	out := mustRun(t, "generate", "--db", db, "--until", "2026-11-22T12:00:00Z").out
	golden(t, repoFile("testdata", "example", "policies.golden.yaml"), out)
	applyPolicies(t, cs, out)
	// The policies now in the cluster deny nothing observed, and are what
	// generate would write.
	until := "2026-11-22T12:00:00Z"
	if r := run(t, "", "check", "--db", db, "--until", until, "--kubeconfig", env.Kubeconfig); r.code != 0 || !strings.Contains(r.out, "0 of 10 observed flows would be denied") {
		t.Errorf("check against the cluster: exit %d\n%s%s", r.code, r.out, r.err)
	}
	if r := run(t, "", "diff", "--db", db, "--until", until, "--kubeconfig", env.Kubeconfig); r.code != 0 || !strings.Contains(r.out, "no changes") {
		t.Errorf("diff against the cluster: exit %d\n%s%s", r.code, r.out, r.err)
	}
	// As the kubectl plugin, the cluster is the kubeconfig's current
	// context without --kubeconfig.
	t.Setenv("KUBECONFIG", env.Kubeconfig)
	for _, args := range [][]string{{"check", "--db", db, "--until", until}, {"diff", "--db", db, "--until", until}} {
		var out, errb bytes.Buffer
		code := cli.RunAs(context.Background(), cli.PluginName, args, cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
		if code != 0 || !strings.Contains(out.String(), map[string]string{"check": "0 of 10 observed flows would be denied", "diff": "no changes"}[args[0]]) {
			t.Errorf("kubectl flowpol %s: exit %d\n%s%s", args[0], code, out.String(), errb.String())
		}
	}
}

// rewriteUIDs writes a copy of a flow file with the pod uids the server
// gave.
func rewriteUIDs(t testing.TB, path string, uids map[string]string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for from, to := range uids {
		s = strings.ReplaceAll(s, from, to)
	}
	out := filepath.Join(t.TempDir(), "flows.jsonl")
	if err := os.WriteFile(out, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// applyPolicies creates every policy of a YAML stream in the API server.
func applyPolicies(t testing.TB, cs kubernetes.Interface, stream string) {
	t.Helper()
	n := 0
	for _, doc := range strings.Split(stream, "\n---\n") {
		var np networkingv1.NetworkPolicy
		if err := yaml.UnmarshalStrict([]byte(doc), &np); err != nil {
			t.Fatalf("policy %d: %v", n, err)
		}
		if _, err := cs.NetworkingV1().NetworkPolicies(np.Namespace).Create(context.Background(), &np, metav1.CreateOptions{}); err != nil {
			t.Errorf("the API server refused %s/%s: %v", np.Namespace, np.Name, err)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no policies to apply")
	}
}

// startLearn runs learn --from - against the live cluster in the
// background; write records to the returned writer, close it, and read the
// result from the channel.
func startLearn(t testing.TB, env *kubeenv.Env, db string) (*io.PipeWriter, <-chan result) {
	t.Helper()
	pr, pw := io.Pipe()
	done := make(chan result, 1)
	go func() {
		var out, errb bytes.Buffer
		code := cli.Run(context.Background(), []string{"learn", "--from", "-", "--kubeconfig", env.Kubeconfig, "--db", db, "--max-wait", "60s"},
			cli.Streams{In: pr, Out: &out, Err: &errb})
		pr.Close()
		done <- result{code: code, out: out.String(), err: errb.String()}
	}()
	return pw, done
}

func writeFlow(t testing.TB, w io.Writer, at time.Time, src, dst string, count int) {
	t.Helper()
	writeFlowFrom(t, w, at, src, "", dst, count)
}

// writeFlowFrom writes a client-side record, attributed to the client's
// pod by its uid when podUID is not empty, as the collector attributes it.
func writeFlowFrom(t testing.TB, w io.Writer, at time.Time, src, podUID, dst string, count int) {
	t.Helper()
	_, err := fmt.Fprintf(w, `{"time":%q,"node":"n1","proto":"TCP","src_ip":%q,"dst_ip":%q,"dst_port":80,"observer":"client","count":%d,"pod_uid":%q}`+"\n",
		at.UTC().Format(time.RFC3339Nano), src, dst, count, podUID)
	if err != nil {
		t.Fatal(err)
	}
}

// livePod creates a bare pod with an address, as a kubelet would report
// it, started now, and returns its uid.
func livePod(t testing.TB, cs kubernetes.Interface, name, ip string) string {
	t.Helper()
	return livePodSince(t, cs, name, ip, time.Now())
}

// livePodSince is livePod for a pod that started at a given time.
func livePodSince(t testing.TB, cs kubernetes.Interface, name, ip string, start time.Time) string {
	t.Helper()
	ctx := context.Background()
	p, err := cs.CoreV1().Pods("app").Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": name}},
		Spec:       corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Image: "app"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	started := metav1.NewTime(start)
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}, StartTime: &started}
	if _, err := cs.CoreV1().Pods("app").UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	return string(p.UID)
}

// waitTaken writes a record the learner ignores (traffic inside one pod)
// and waits until the learner takes it: it has then done with every
// record before. A learner that stops reading fails the test.
func waitTaken(t testing.TB, pw *io.PipeWriter) {
	t.Helper()
	written := make(chan error, 1)
	go func() {
		var b bytes.Buffer
		writeFlow(t, &b, time.Now(), "10.250.0.9", "10.250.0.9", 1)
		_, err := pw.Write(b.Bytes())
		written <- err
	}()
	select {
	case err := <-written:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		pw.CloseWithError(errors.New("the learner stopped reading"))
		t.Fatal("the learner took no record for a minute")
	}
}

func liveBase(t testing.TB, cs kubernetes.Interface) {
	t.Helper()
	ctx := context.Background()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "app"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: corev1.NodeSpec{PodCIDR: "10.250.0.0/24"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	livePod(t, cs, "server", "10.250.0.9")
}

func waitGone(t testing.TB, cs kubernetes.Interface, name string) {
	t.Helper()
	zero := int64(0)
	if err := cs.CoreV1().Pods("app").Delete(context.Background(), name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if _, err := cs.CoreV1().Pods("app").Get(context.Background(), name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("pod %s was not deleted", name)
}

func finishLearn(t testing.TB, pw *io.PipeWriter, done <-chan result) result {
	t.Helper()
	pw.Close()
	r := <-done
	if r.code != 0 {
		t.Fatalf("learn: exit %d\n%s", r.code, r.err)
	}
	return r
}

func wantEvidence(t testing.TB, db string, wants ...string) {
	t.Helper()
	out := mustRun(t, "generate", "--db", db, "--until", time.Now().Add(time.Minute).UTC().Format(time.RFC3339)).out
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("policies lack %q:\n%s", w, out)
		}
	}
}

// A pod's address given to a pod of another workload: flows before the
// switch resolve to the old pod, even when they arrive late, and flows
// after it to the new one.
func TestLearnFollowsAddressReuse(t *testing.T) {
	env := kubeenv.Start(t)
	cs := env.Client()
	liveBase(t, cs)
	// alpha held the address from a minute ago until it is deleted below;
	// its flows are from half a minute ago, well inside its tenure.
	livePodSince(t, cs, "alpha", "10.250.0.5", time.Now().Add(-time.Minute))
	db := filepath.Join(t.TempDir(), "f.db")
	pw, done := startLearn(t, env, db)
	before := time.Now().Add(-30 * time.Second)
	writeFlow(t, pw, before, "10.250.0.5", "10.250.0.9", 3)
	waitGone(t, cs, "alpha")
	beta := livePod(t, cs, "beta", "10.250.0.5")
	// The collector names beta by its uid: the flow waits, if need be,
	// until the informers show beta.
	writeFlowFrom(t, pw, time.Now(), "10.250.0.5", beta, "10.250.0.9", 5)
	writeFlow(t, pw, before.Add(time.Millisecond), "10.250.0.5", "10.250.0.9", 4) // alpha's, arriving late
	finishLearn(t, pw, done)
	wantEvidence(t, db,
		"name: flowpol-pod-alpha", "egress to app/Pod/server on 80/TCP: 7 connections",
		"name: flowpol-pod-beta", "egress to app/Pod/server on 80/TCP: 5 connections")
}

// The API server stops and comes back in the middle of a run: learning goes
// on, and flows of a pod created meanwhile wait until the state catches up.
func TestLearnAcrossAPIServerRestart(t *testing.T) {
	env := kubeenv.Start(t)
	cs := env.Client()
	liveBase(t, cs)
	livePod(t, cs, "alpha", "10.250.0.5")
	db := filepath.Join(t.TempDir(), "f.db")
	pw, done := startLearn(t, env, db)
	writeFlow(t, pw, time.Now(), "10.250.0.5", "10.250.0.9", 1)
	env.StopAPIServer()
	writeFlow(t, pw, time.Now(), "10.250.0.5", "10.250.0.9", 2)
	waitTaken(t, pw) // learning goes on while the API server is down
	env.StartAPIServer()
	livePod(t, cs, "gamma", "10.250.0.6")
	writeFlow(t, pw, time.Now(), "10.250.0.6", "10.250.0.9", 4)
	r := finishLearn(t, pw, done)
	if !strings.Contains(r.out, "unresolved ends: none") {
		t.Errorf("some ends stayed unresolved:\n%s", r.out)
	}
	wantEvidence(t, db,
		"egress to app/Pod/server on 80/TCP: 3 connections",
		"name: flowpol-pod-gamma", "egress to app/Pod/server on 80/TCP: 4 connections")
}
