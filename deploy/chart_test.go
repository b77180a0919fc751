package deploy_test

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"helm.sh/helm/v3/pkg/releaseutil"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/flowpol/flowpol/internal/kubeenv"
)

const chartDir = "chart"

// renderOptions: a release of the chart with these values, on a cluster
// serving these extra API versions (CRDs).
type renderOptions struct {
	values map[string]any
	apis   []string
	config *rest.Config // for lookup; nil renders as helm template does
}

// renderChart renders the chart as helm install flowpol -n flowpol would.
func renderChart(t testing.TB, o renderOptions) []*unstructured.Unstructured {
	t.Helper()
	chrt, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	caps := chartutil.DefaultCapabilities.Copy()
	caps.APIVersions = append(caps.APIVersions, o.apis...)
	vals, err := chartutil.ToRenderValues(chrt, o.values, chartutil.ReleaseOptions{Name: "flowpol", Namespace: "flowpol", IsInstall: true, Revision: 1}, caps)
	if err != nil {
		t.Fatalf("values: %v", err)
	}
	files, err := renderFiles(chrt, vals, o.config)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	var out []*unstructured.Unstructured
	for name, text := range files {
		if !strings.HasSuffix(name, ".yaml") {
			continue
		}
		for _, doc := range releaseutil.SplitManifests(text) {
			var m map[string]any
			if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
				t.Fatalf("%s: %v\n%s", name, err, doc)
			}
			if len(m) > 0 {
				out = append(out, &unstructured.Unstructured{Object: m})
			}
		}
	}
	slices.SortFunc(out, func(a, b *unstructured.Unstructured) int {
		return strings.Compare(a.GetKind()+"/"+a.GetName(), b.GetKind()+"/"+b.GetName())
	})
	return out
}

func renderFiles(chrt *chart.Chart, vals chartutil.Values, cfg *rest.Config) (map[string]string, error) {
	if cfg != nil {
		return engine.RenderWithClient(chrt, vals, cfg)
	}
	return engine.Render(chrt, vals)
}

// helm lint passes, with nothing above information.
func TestChartLint(t *testing.T) {
	for _, values := range []map[string]any{nil, {"tls": map[string]any{"mutual": true}, "enforcer": map[string]any{"enabled": true}}} {
		l := lint.All(chartDir, values, "flowpol", false)
		for _, m := range l.Messages {
			if m.Severity > support.InfoSev {
				t.Errorf("helm lint %v: %s", values, m)
			}
		}
	}
}

// The chart, with TLS off and the namespace created, is the kustomize
// base object for object, field for field, but for Helm's own labels; with
// recommend.apply it is the apply overlay. A change to one is made to the
// other.
func TestChartMatchesKustomize(t *testing.T) {
	for _, tc := range []struct {
		dir    string
		values map[string]any
	}{
		{"base", map[string]any{}},
		{"apply", map[string]any{"recommend": map[string]any{"apply": true}}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			tc.values["tls"] = map[string]any{"enabled": false}
			tc.values["namespace"] = map[string]any{"create": true}
			want := byName(t, render(t, tc.dir))
			got := byName(t, renderChart(t, renderOptions{values: tc.values}))
			for k := range want {
				if _, ok := got[k]; !ok {
					t.Errorf("the chart lacks %s", k)
				}
			}
			for k, g := range got {
				w, ok := want[k]
				if !ok {
					t.Errorf("the chart has %s, the kustomization does not", k)
					continue
				}
				if d := cmp.Diff(w, g); d != "" {
					t.Errorf("%s differs (-kustomize +chart):\n%s", k, d)
				}
			}
		})
	}
}

// byName keys objects by kind and name, as plain JSON values, without
// the labels only Helm adds.
func byName(t testing.TB, objs []*unstructured.Unstructured) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, o := range objs {
		labels := o.GetLabels()
		for _, k := range []string{"app.kubernetes.io/managed-by", "app.kubernetes.io/instance", "app.kubernetes.io/version", "helm.sh/chart"} {
			delete(labels, k)
		}
		o.SetLabels(labels)
		b, err := json.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		out[o.GetKind()+"/"+o.GetName()] = v
	}
	return out
}

// The image tag make image gives (VERSION) is the one the chart and the
// kustomize base reference.
func TestImageTag(t *testing.T) {
	b, err := os.ReadFile("../VERSION")
	if err != nil {
		t.Fatal(err)
	}
	version := strings.TrimSpace(string(b))
	chrt, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	if chrt.Metadata.AppVersion != version {
		t.Errorf("chart appVersion %s, VERSION %s", chrt.Metadata.AppVersion, version)
	}
	for name, objs := range map[string][]*unstructured.Unstructured{"base": render(t, "base"), "chart": renderChart(t, renderOptions{values: map[string]any{"enforcer": map[string]any{"enabled": true}}})} {
		for _, o := range objs {
			for _, img := range images(o.Object) {
				if img != "ghcr.io/flowpol/flowpol:"+version {
					t.Errorf("%s: %s %s: image %s, want ghcr.io/flowpol/flowpol:%s", name, o.GetKind(), o.GetName(), img, version)
				}
			}
		}
	}
}

// By default the aggregator serves TLS with a certificate, for its
// Service's names, that the CA the agents and the job are given verifies;
// with tls.mutual it also verifies the clients', which they present.
func TestChartTLS(t *testing.T) {
	for _, mutual := range []bool{false, true} {
		objs := renderChart(t, renderOptions{values: map[string]any{"tls": map[string]any{"mutual": mutual}}})
		server := secretPair(t, objs, "flowpol-aggregator-tls")
		verify(t, server, "flowpol-aggregator.flowpol.svc", x509.ExtKeyUsageServerAuth)
		agg := find[appsv1.Deployment](t, objs, "Deployment", "flowpol-aggregator").Spec.Template.Spec.Containers[0].Args
		agent := find[appsv1.DaemonSet](t, objs, "DaemonSet", "flowpol-agent").Spec.Template.Spec.Containers[0].Args
		rec := find[batchv1.CronJob](t, objs, "CronJob", "flowpol-recommend").Spec.JobTemplate.Spec.Template.Spec.Containers[0].Args
		for _, want := range []string{"--tls-cert=/var/run/flowpol/tls/tls.crt", "--tls-key=/var/run/flowpol/tls/tls.key"} {
			if !slices.Contains(agg, want) {
				t.Errorf("aggregator args %v lack %s", agg, want)
			}
		}
		if slices.Contains(agg, "--client-ca=/var/run/flowpol/tls/ca.crt") != mutual {
			t.Errorf("mutual %v: aggregator args %v", mutual, agg)
		}
		for name, args := range map[string][]string{"agent": agent, "recommend": rec} {
			if !slices.Contains(args, "--server=https://flowpol-aggregator.flowpol.svc:8443") || !slices.Contains(args, "--server-ca=/var/run/flowpol/tls/ca.crt") {
				t.Errorf("%s args %v: want the https server verified with the chart's CA", name, args)
			}
			if slices.Contains(args, "--client-cert=/var/run/flowpol/client-tls/tls.crt") != mutual {
				t.Errorf("mutual %v: %s args %v", mutual, name, args)
			}
		}
		if mutual {
			client := secretPair(t, objs, "flowpol-client-tls")
			if string(client.ca) != string(server.ca) {
				t.Error("the client certificate's CA is not the server's")
			}
			verify(t, client, "", x509.ExtKeyUsageClientAuth)
		}
	}
}

type tlsPair struct{ cert, ca []byte }

func secretPair(t testing.TB, objs []*unstructured.Unstructured, name string) tlsPair {
	t.Helper()
	s := find[corev1.Secret](t, objs, "Secret", name)
	if s.Type != corev1.SecretTypeTLS || len(s.Data["tls.key"]) == 0 {
		t.Fatalf("secret %s: type %s, want kubernetes.io/tls with a key", name, s.Type)
	}
	return tlsPair{cert: s.Data["tls.crt"], ca: s.Data["ca.crt"]}
}

func verify(t testing.TB, p tlsPair, dnsName string, usage x509.ExtKeyUsage) {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(p.ca) {
		t.Fatal("ca.crt holds no certificate")
	}
	block, _ := pem.Decode(p.cert)
	if block == nil {
		t.Fatal("tls.crt holds no certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: dnsName, KeyUsages: []x509.ExtKeyUsage{usage}, CurrentTime: time.Now()}); err != nil {
		t.Errorf("certificate %s: %v", cert.Subject, err)
	}
}

// Minimal CRDs of cert-manager and the Prometheus Operator: their kinds
// served, their schemas left open.
func crds() []map[string]any {
	var out []map[string]any
	for _, c := range []struct{ group, kind, plural string }{
		{"cert-manager.io", "Certificate", "certificates"},
		{"cert-manager.io", "Issuer", "issuers"},
		{"monitoring.coreos.com", "ServiceMonitor", "servicemonitors"},
		{"monitoring.coreos.com", "PodMonitor", "podmonitors"},
	} {
		out = append(out, map[string]any{
			"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
			"metadata": map[string]any{"name": c.plural + "." + c.group},
			"spec": map[string]any{
				"group": c.group, "scope": "Namespaced",
				"names": map[string]any{"kind": c.kind, "plural": c.plural, "singular": strings.ToLower(c.kind), "listKind": c.kind + "List"},
				"versions": []any{map[string]any{
					"name": "v1", "served": true, "storage": true,
					"schema": map[string]any{"openAPIV3Schema": map[string]any{
						"type":       "object",
						"properties": map[string]any{"spec": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
					}},
				}},
			},
		})
	}
	return out
}

// Every object of the chart, under each shape of its values, is accepted
// by a real API server with strict field validation in a server-side dry
// run; with cert-manager's and the Prometheus Operator's CRDs installed,
// the chart takes their certificates and makes monitors.
func TestChartDryRun(t *testing.T) {
	env := kubeenv.Start(t)
	a := newApplier(t, env.Config)
	a.ensureNamespace(t, "flowpol") // helm install -n flowpol --create-namespace
	for _, c := range crds() {
		a.create(t, &unstructured.Unstructured{Object: c}, false)
	}
	a.waitFor(t, "cert-manager.io/v1", "monitoring.coreos.com/v1")
	withCRDs := []string{"cert-manager.io/v1", "cert-manager.io/v1/Certificate", "cert-manager.io/v1/Issuer", "monitoring.coreos.com/v1", "monitoring.coreos.com/v1/ServiceMonitor", "monitoring.coreos.com/v1/PodMonitor"}
	for _, tc := range []struct {
		name  string
		o     renderOptions
		kinds []string // kinds that must be among the objects
	}{
		{"defaults", renderOptions{}, []string{"Secret", "DaemonSet", "Deployment", "PersistentVolumeClaim", "CronJob", "NetworkPolicy"}},
		{"namespace, mTLS, apply, enforcer", renderOptions{values: map[string]any{
			"namespace": map[string]any{"create": true},
			"tls":       map[string]any{"mutual": true},
			"recommend": map[string]any{"apply": true, "schedule": "*/30 * * * *"},
			"enforcer":  map[string]any{"enabled": true},
			"retention": "1m:2d,1h:12w",
			"agent":     map[string]any{"nodeSelector": map[string]any{"kubernetes.io/os": "linux"}},
		}}, []string{"Namespace", "Secret"}},
		{"cert-manager and the Prometheus Operator", renderOptions{apis: withCRDs, values: map[string]any{"tls": map[string]any{"mutual": true}}}, []string{"Certificate", "Issuer", "ServiceMonitor", "PodMonitor"}},
		{"external store", renderOptions{values: map[string]any{"store": map[string]any{"type": "external", "external": map[string]any{"existingSecret": "flowpol-store"}}}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs := renderChart(t, tc.o)
			slices.SortStableFunc(objs, func(a, b *unstructured.Unstructured) int {
				return boolInt(b.GetKind() == "Namespace") - boolInt(a.GetKind() == "Namespace")
			})
			var kinds []string
			for _, o := range objs {
				kinds = append(kinds, o.GetKind())
				a.create(t, o, true)
			}
			for _, k := range tc.kinds {
				if !slices.Contains(kinds, k) {
					t.Errorf("no %s among %v", k, kinds)
				}
			}
			if tc.o.apis != nil && slices.Contains(kinds, "Secret") {
				t.Errorf("with cert-manager, the chart still generates certificates: %v", kinds)
			}
		})
	}
	t.Run("certificates kept across upgrades", func(t *testing.T) {
		first := renderChart(t, renderOptions{config: env.Config})
		for _, o := range first {
			if o.GetKind() == "Secret" {
				a.create(t, o, false)
			}
		}
		again := renderChart(t, renderOptions{config: env.Config})
		for _, name := range []string{"flowpol-ca", "flowpol-aggregator-tls"} {
			w, g := find[corev1.Secret](t, first, "Secret", name), find[corev1.Secret](t, again, "Secret", name)
			if string(w.Data["tls.crt"]) != string(g.Data["tls.crt"]) || string(w.Data["ca.crt"]) != string(g.Data["ca.crt"]) {
				t.Errorf("%s: an upgrade made a new certificate; agents would no longer trust the aggregator", name)
			}
		}
	})
}

// A chart value out of range is an error naming it, before anything is
// rendered.
func TestChartRefuses(t *testing.T) {
	chrt, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		values map[string]any
		want   string
	}{
		{"store", map[string]any{"store": map[string]any{"type": "sqlite"}}, "/store/type"},
		{"tls source", map[string]any{"tls": map[string]any{"source": "vault"}}, "/tls/source"},
		{"external without secret", map[string]any{"store": map[string]any{"type": "external"}}, "existingSecret"},
		{"enforcer mode", map[string]any{"enforcer": map[string]any{"enabled": true, "mode": "drop"}}, "/enforcer/mode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vals, err := chartutil.ToRenderValues(chrt, tc.values, chartutil.ReleaseOptions{Name: "flowpol", Namespace: "flowpol", IsInstall: true}, chartutil.DefaultCapabilities)
			if err == nil {
				_, err = engine.Render(chrt, vals)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one naming %s", err, tc.want)
			}
		})
	}
}
