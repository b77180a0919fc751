package inventory

import (
	"maps"
	"os"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// counts returns the number of kept objects of each kind.
func counts(inv *Inventory) map[string]int {
	all := map[string]int{
		"Namespace": len(inv.Namespaces), "Node": len(inv.Nodes), "Pod": len(inv.Pods),
		"Service": len(inv.Services), "EndpointSlice": len(inv.EndpointSlices),
		"ReplicaSet": len(inv.ReplicaSets), "Deployment": len(inv.Deployments),
		"StatefulSet": len(inv.StatefulSets), "DaemonSet": len(inv.DaemonSets),
		"Job": len(inv.Jobs), "CronJob": len(inv.CronJobs),
	}
	maps.DeleteFunc(all, func(_ string, n int) bool { return n == 0 })
	return all
}

func loadFile(t testing.TB, path string) *Inventory {
	t.Helper()
	inv, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestLoadFile(t *testing.T) {
	all := map[string]int{
		"Namespace": 1, "Node": 1, "Pod": 1, "Service": 2, "EndpointSlice": 2, "ReplicaSet": 1,
		"Deployment": 1, "StatefulSet": 1, "DaemonSet": 1, "Job": 1, "CronJob": 1,
	}
	allSkipped := map[string]int{"ConfigMap": 2, "Deployment extensions/v1beta1": 1}
	tests := []struct {
		name    string
		file    string
		kept    map[string]int
		skipped map[string]int
	}{
		{"kind List", "testdata/list.yaml", all, allSkipped},
		{"JSON List", "testdata/list.json", all, allSkipped},
		{"multi-document YAML", "testdata/multi.yaml", map[string]int{"Namespace": 1, "Pod": 1, "Service": 1}, map[string]int{"Secret": 1, "Event": 1}},
		{"CRLF line ends", "testdata/crlf.yaml", map[string]int{"Node": 1}, map[string]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := loadFile(t, tt.file)
			if got := counts(inv); !maps.Equal(got, tt.kept) {
				t.Errorf("kept %v, want %v", got, tt.kept)
			}
			if !maps.Equal(inv.Skipped, tt.skipped) {
				t.Errorf("skipped %v, want %v", inv.Skipped, tt.skipped)
			}
			if n := sum(tt.kept); inv.Objects() != n {
				t.Errorf("Objects() = %d, want %d", inv.Objects(), n)
			}
		})
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestLoadDecodesFields fails if objects are counted but their fields are
// not decoded into the typed structs.
func TestLoadDecodesFields(t *testing.T) {
	inv := loadFile(t, "testdata/list.yaml")
	pod := inv.Pods[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"pod name", pod.Namespace + "/" + pod.Name, "shop/api-1"},
		{"pod IPs", pod.Status.PodIPs, []corev1.PodIP{{IP: "10.244.1.12"}, {IP: "fd00:10:244:1::c"}}},
		{"pod owner", pod.OwnerReferences[0].Name, "api-7d9f"},
		{"container port", pod.Spec.Containers[0].Ports[0].ContainerPort, int32(8080)},
		{"cpu request", pod.Spec.Containers[0].Resources.Requests.Cpu().MilliValue(), int64(100)},
		{"node address", inv.Nodes[0].Status.Addresses[1].Address, "fc00:f853:ccd:e793::2"},
		{"service clusterIP", inv.Services[0].Spec.ClusterIP, "10.96.14.3"},
		{"headless service", inv.Services[1].Spec.ClusterIP, "None"},
		{"service targetPort", inv.Services[0].Spec.Ports[0].TargetPort.String(), "http"},
		{"slice address", inv.EndpointSlices[0].Endpoints[0].Addresses, []string{"10.244.1.12"}},
		{"FQDN slice address", inv.EndpointSlices[1].Endpoints[0].Addresses, []string{"payments.example.com"}},
		{"deployment selector", inv.Deployments[0].Spec.Selector.MatchLabels, map[string]string{"app": "api"}},
		{"daemonset namespace", inv.DaemonSets[0].Namespace, "monitoring"},
		{"cronjob schedule", inv.CronJobs[0].Spec.Schedule, "*/5 * * * *"},
		{"pod kind", pod.GroupVersionKind(), schema.GroupVersionKind{Version: "v1", Kind: "Pod"}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestYAMLAndJSONAgree fails if the same List reads differently as YAML and
// as JSON.
func TestYAMLAndJSONAgree(t *testing.T) {
	y, j := loadFile(t, "testdata/list.yaml"), loadFile(t, "testdata/list.json")
	if !reflect.DeepEqual(y, j) {
		t.Errorf("testdata/list.yaml and testdata/list.json differ:\n%+v\n%+v", y, j)
	}
}

func TestLoadEmpty(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"nothing", ""},
		{"blank lines", "\n\n  \n"},
		{"separators", "---\n---\n"},
		{"comments", "# a\n---\n# b\n"},
		{"empty List", "apiVersion: v1\nkind: List\nitems: []\n"},
		{"JSON null", "null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := Load(strings.NewReader(tt.in), "empty.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if inv.Objects() != 0 || inv.Skipped == nil || len(inv.Skipped) != 0 {
				t.Errorf("got %d objects and skipped %v, want none and an empty map", inv.Objects(), inv.Skipped)
			}
		})
	}
}

func writeFile(t testing.TB, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}
