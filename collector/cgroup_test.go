package collector

import "testing"

func TestPodOf(t *testing.T) {
	const uid = "3c8e1d4a-0002-4000-8000-000000000002"
	tests := []struct {
		name      string
		path      string
		uid, ctr  string
		wantFound bool
	}{
		{"cgroupfs burstable", "/kubepods/burstable/pod" + uid + "/0f1e2d3c4b5a", uid, "0f1e2d3c4b5a", true},
		{"cgroupfs guaranteed", "kubepods/pod" + uid + "/abc", uid, "abc", true},
		{"cgroupfs besteffort, pod cgroup", "/kubepods/besteffort/pod" + uid, uid, "", true},
		{"systemd containerd", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod3c8e1d4a_0002_4000_8000_000000000002.slice/cri-containerd-9f8e7d.scope", uid, "9f8e7d", true},
		{"systemd guaranteed cri-o", "/kubepods.slice/kubepods-pod3c8e1d4a_0002_4000_8000_000000000002.slice/crio-77aa.scope", uid, "77aa", true},
		{"systemd docker", "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod3c8e1d4a_0002_4000_8000_000000000002.slice/docker-55.scope", uid, "55", true},
		{"nested under a node's cgroup", "/kind/node-a/kubepods/burstable/pod" + uid + "/c1", uid, "c1", true},
		{"not a pod", "/system.slice/kubelet.service", "", "", false},
		{"a pod-like name that is no uid", "/podcast/abc", "", "", false},
		{"root", "/", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uid, ctr, ok := PodOf(tt.path)
			if uid != tt.uid || ctr != tt.ctr || ok != tt.wantFound {
				t.Errorf("PodOf(%q) = %q, %q, %v; want %q, %q, %v", tt.path, uid, ctr, ok, tt.uid, tt.ctr, tt.wantFound)
			}
		})
	}
}
