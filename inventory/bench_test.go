package inventory

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/flowpol/flowpol/internal/procstat"
)

// benchPods is the size of the inventory BenchmarkLoad reads.
const benchPods = 40_000

// writeBenchInventory writes a kind: List of pods as kubectl -o yaml
// prints it, with the labels, owners, containers and status a real pod has,
// about 1.3 KB a pod.
func writeBenchInventory(tb testing.TB, path string, pods int) int64 {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprint(w, "apiVersion: v1\nitems:\n")
	for i := range pods {
		fmt.Fprintf(w, `- apiVersion: v1
  kind: Pod
  metadata:
    creationTimestamp: "2026-11-01T09:00:00Z"
    generateName: api-%[1]d-7d9f8b6c5d-
    labels:
      app: api-%[1]d
      pod-template-hash: 7d9f8b6c5d
      tier: backend
    name: api-%[1]d-7d9f8b6c5d-x%[1]d
    namespace: team-%02[2]d
    ownerReferences:
    - apiVersion: apps/v1
      blockOwnerDeletion: true
      controller: true
      kind: ReplicaSet
      name: api-%[1]d-7d9f8b6c5d
      uid: 5f0c6f8e-3b1e-4d7a-9c1e-%012[1]d
    resourceVersion: "%[1]d"
    uid: 0a8e1d3c-5b7f-4e2a-8d6c-%012[1]d
  spec:
    containers:
    - image: registry.example/api:1.%[1]d
      imagePullPolicy: IfNotPresent
      name: api
      ports:
      - containerPort: 8080
        name: http
        protocol: TCP
      resources:
        requests:
          cpu: 100m
          memory: 128Mi
      terminationMessagePath: /dev/termination-log
      terminationMessagePolicy: File
    dnsPolicy: ClusterFirst
    nodeName: node-%[3]d
    restartPolicy: Always
    schedulerName: default-scheduler
    serviceAccountName: default
    terminationGracePeriodSeconds: 30
  status:
    hostIP: 10.0.%[3]d.1
    phase: Running
    podIP: 10.%[4]d.%[5]d.%[6]d
    podIPs:
    - ip: 10.%[4]d.%[5]d.%[6]d
    qosClass: Burstable
    startTime: "2026-11-01T09:00:05Z"
`, i, i%20, i%200, 1+i>>16, i>>8&255, i&255)
	}
	fmt.Fprint(w, "kind: List\nmetadata:\n  resourceVersion: \"\"\n")
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	fi, err := f.Stat()
	if err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return fi.Size()
}

// BenchmarkLoad reads a 40,000-pod inventory from a file and prints how
// much it allocated, the heap it left in use, and the process's peak
// resident set while it read.
func BenchmarkLoad(b *testing.B) {
	path := filepath.Join(b.TempDir(), "cluster.yaml")
	size := writeBenchInventory(b, path, benchPods)
	runtime.GC()
	debug.FreeOSMemory()
	procstat.ResetPeakRSS()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var inv *Inventory
	for b.Loop() {
		var err error
		if inv, err = LoadFile(path); err != nil {
			b.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if len(inv.Pods) != benchPods {
		b.Fatalf("kept %d pods, want %d", len(inv.Pods), benchPods)
	}
	peak, _ := procstat.PeakRSS()
	runtime.GC()
	var kept runtime.MemStats
	runtime.ReadMemStats(&kept)
	b.ReportMetric(float64(size)/1e6, "MB-file")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/1e6, "MB-alloc/op")
	b.ReportMetric(float64(kept.HeapAlloc)/1e6, "MB-kept")
	b.ReportMetric(float64(peak)/1e6, "MB-peak-rss")
	runtime.KeepAlive(inv)
}
