package collector

import (
	"path"
	"strings"
)

// PodOf reads the pod uid and container id from a cgroup path laid out by
// the kubelet, with either cgroup driver:
//
//	cgroupfs: /kubepods/burstable/pod<uid>/<container>
//	systemd:  /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_with_underscores>.slice/cri-containerd-<container>.scope
//
// ok is false for a cgroup that is not a pod's. The container id is empty
// for the pod's own cgroup.
func PodOf(cgroupPath string) (podUID, containerID string, ok bool) {
	parts := strings.Split(path.Clean("/"+cgroupPath), "/")
	for i, p := range parts {
		uid, found := podUIDOf(p)
		if !found {
			continue
		}
		if i+1 < len(parts) {
			containerID = containerIDOf(parts[i+1])
		}
		return uid, containerID, true
	}
	return "", "", false
}

// podUIDOf reads the uid from one path element: pod<uid> (cgroupfs), or
// kubepods[-qos]-pod<uid_with_underscores>.slice (systemd).
func podUIDOf(elem string) (string, bool) {
	if s, ok := strings.CutSuffix(elem, ".slice"); ok {
		i := strings.LastIndex(s, "-pod")
		if i < 0 || !strings.HasPrefix(s, "kubepods") {
			return "", false
		}
		return validUID(strings.ReplaceAll(s[i+len("-pod"):], "_", "-"))
	}
	if s, ok := strings.CutPrefix(elem, "pod"); ok {
		return validUID(s)
	}
	return "", false
}

// validUID accepts what a pod uid looks like: 32 hex digits in 8-4-4-4-12
// groups.
func validUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return "", false
			}
		}
	}
	return s, true
}

// containerIDOf reads a container id from the element below a pod's
// cgroup: the id itself (cgroupfs), or <runtime>-<id>.scope (systemd).
func containerIDOf(elem string) string {
	s, ok := strings.CutSuffix(elem, ".scope")
	if !ok {
		return elem
	}
	if i := strings.LastIndex(s, "-"); i >= 0 {
		return s[i+1:]
	}
	return s
}
