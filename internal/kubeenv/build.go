package kubeenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// Version is the Kubernetes release the test API server is built at.
const Version = "v1.37.2"

// Binaries are the paths of a built etcd and kube-apiserver.
type Binaries struct {
	Etcd, APIServer string
}

// CacheDir is where the binaries of Version are kept:
// $FLOWPOL_KUBE_CACHE, else <user cache dir>/flowpol/kube/<Version>.
func CacheDir() (string, error) {
	if d := os.Getenv("FLOWPOL_KUBE_CACHE"); d != "" {
		return filepath.Join(d, Version), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find a cache directory: %w", err)
	}
	return filepath.Join(d, "flowpol", "kube", Version), nil
}

// Cached returns the binaries when they are built.
func Cached() (Binaries, error) {
	dir, err := CacheDir()
	if err != nil {
		return Binaries{}, err
	}
	b := Binaries{Etcd: filepath.Join(dir, "etcd"), APIServer: filepath.Join(dir, "kube-apiserver")}
	for _, p := range []string{b.Etcd, b.APIServer} {
		if _, err := os.Stat(p); err != nil {
			return Binaries{}, fmt.Errorf("%s is not built (make kube-env): %w", filepath.Base(p), err)
		}
	}
	return b, nil
}

// Build builds the binaries into the cache unless they are there.
func Build(ctx context.Context, log func(string)) (Binaries, error) {
	if b, err := Cached(); err == nil {
		return b, nil
	}
	dir, err := CacheDir()
	if err != nil {
		return Binaries{}, err
	}
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return Binaries{}, err
	}
	log("resolving k8s.io/kubernetes " + Version)
	gomod, err := scratchModule(ctx, src)
	if err != nil {
		return Binaries{}, err
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte(gomod), 0o644); err != nil {
		return Binaries{}, err
	}
	if err := os.WriteFile(filepath.Join(src, "tools.go"), []byte(toolsGo), 0o644); err != nil {
		return Binaries{}, err
	}
	if err := goCmd(ctx, src, "mod", "tidy"); err != nil {
		return Binaries{}, err
	}
	b := Binaries{Etcd: filepath.Join(dir, "etcd"), APIServer: filepath.Join(dir, "kube-apiserver")}
	log("building kube-apiserver (about ten minutes with a cold build cache)")
	ldflags := fmt.Sprintf("-X k8s.io/component-base/version.gitVersion=%s -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=%s",
		Version, strings.Split(Version, ".")[1])
	if err := goCmd(ctx, src, "build", "-ldflags", ldflags, "-o", b.APIServer+".tmp", "k8s.io/kubernetes/cmd/kube-apiserver"); err != nil {
		return Binaries{}, err
	}
	log("building etcd")
	if err := goCmd(ctx, src, "build", "-o", b.Etcd+".tmp", "go.etcd.io/etcd/server/v3"); err != nil {
		return Binaries{}, err
	}
	for _, p := range []string{b.APIServer, b.Etcd} {
		if err := os.Rename(p+".tmp", p); err != nil {
			return Binaries{}, err
		}
	}
	return b, nil
}

// toolsGo makes the scratch module need both programs' packages.
const toolsGo = `//go:build tools

package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
`

var stagingRequire = regexp.MustCompile(`(?m)^\s+(k8s\.io/[a-z0-9-]+) v0\.0\.0$`)
var etcdRequire = regexp.MustCompile(`(?m)^\s+go\.etcd\.io/etcd/server/v3 (v[0-9.]+)`)

// scratchModule writes the go.mod of a module that builds k8s.io/kubernetes
// at Version: each staging module it requires at v0.0.0 replaced by the
// published tag of the same minor, where there is one.
func scratchModule(ctx context.Context, dir string) (string, error) {
	kmod, err := downloadGoMod(ctx, dir, "k8s.io/kubernetes@"+Version)
	if err != nil {
		return "", err
	}
	etcd := etcdRequire.FindStringSubmatch(kmod)
	if etcd == nil {
		return "", errors.New("k8s.io/kubernetes " + Version + " names no etcd server version")
	}
	staging := "v0" + strings.TrimPrefix(Version, "v1")
	var b strings.Builder
	fmt.Fprintf(&b, "module flowpol.test/kubeenv\n\ngo 1.26\n\nrequire (\n\tk8s.io/kubernetes %s\n\tgo.etcd.io/etcd/server/v3 %s\n)\n\n", Version, etcd[1])
	for _, m := range stagingRequire.FindAllStringSubmatch(kmod, -1) {
		if _, err := downloadGoMod(ctx, dir, m[1]+"@"+staging); err != nil {
			continue // not published, as the sample modules are not
		}
		fmt.Fprintf(&b, "replace %s => %s %s\n", m[1], m[1], staging)
	}
	return b.String(), nil
}

func downloadGoMod(ctx context.Context, dir, modVersion string) (string, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", modVersion)
	cmd.Dir = dir
	cmd.Stdout = &out
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go mod download %s: %w", modVersion, err)
	}
	var info struct{ GoMod, Error string }
	if err := json.Unmarshal(out.Bytes(), &info); err != nil {
		return "", fmt.Errorf("go mod download %s: %w", modVersion, err)
	}
	if info.Error != "" {
		return "", fmt.Errorf("go mod download %s: %s", modVersion, info.Error)
	}
	data, err := os.ReadFile(info.GoMod)
	return string(data), err
}

func goCmd(ctx context.Context, dir string, args ...string) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}
