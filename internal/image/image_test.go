package image_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/x509"
	"debug/elf"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/flowpol/flowpol/internal/image"
)

var testOptions = image.Options{
	Source:   "../..",
	Version:  "v0.0.0-test",
	Revision: "0123456789abcdef0123456789abcdef01234567",
	URL:      "https://github.com/flowpol/flowpol",
	Created:  time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC),
}

// The image as make image builds it: both platforms, written as a layout
// and read back (every blob checked against its digest by validate).
func TestImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds flowpol for two platforms")
	}
	ctx := context.Background()
	idx, err := image.Build(ctx, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "image")
	if err := image.WriteLayout(dir, idx); err != nil {
		t.Fatal(err)
	}
	got, err := image.ReadLayout(dir)
	if err != nil {
		t.Fatalf("the layout does not validate: %v", err)
	}
	t.Run("index", func(t *testing.T) { checkIndex(t, dir) })
	for _, arch := range []string{"amd64", "arm64"} {
		img := platformImage(t, got, arch)
		t.Run(arch+"/config", func(t *testing.T) { checkConfig(t, img, arch) })
		t.Run(arch+"/files", func(t *testing.T) { checkFiles(t, img, arch) })
	}
	t.Run("reproducible", func(t *testing.T) {
		again, err := image.Build(ctx, testOptions)
		if err != nil {
			t.Fatal(err)
		}
		d1, _ := idx.Digest()
		d2, _ := again.Digest()
		if d1 != d2 {
			t.Errorf("the same source built twice gives index %s, then %s", d1, d2)
		}
	})
	t.Run("push", func(t *testing.T) { checkPush(t, dir, got) })
}

// index.json is an OCI index with one manifest per platform.
func checkIndex(t *testing.T, dir string) {
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m v1.IndexManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.OCIImageIndex || len(m.Manifests) != 2 {
		t.Fatalf("index.json: media type %s with %d manifests, want an OCI index of 2", m.MediaType, len(m.Manifests))
	}
	for i, want := range []string{"linux/amd64", "linux/arm64"} {
		d := m.Manifests[i]
		if d.Platform == nil || d.Platform.OS+"/"+d.Platform.Architecture != want || d.MediaType != types.OCIManifestSchema1 {
			t.Errorf("manifest %d: %s for %v, want an OCI manifest for %s", i, d.MediaType, d.Platform, want)
		}
	}
	if m.Annotations["org.opencontainers.image.version"] != testOptions.Version {
		t.Errorf("index annotations %v lack the version", m.Annotations)
	}
}

func platformImage(t *testing.T, idx v1.ImageIndex, arch string) v1.Image {
	t.Helper()
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range m.Manifests {
		if d.Platform != nil && d.Platform.Architecture == arch {
			img, err := idx.Image(d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			return img
		}
	}
	t.Fatalf("no %s image", arch)
	return nil
}

// The config runs flowpol as nonroot, says which platform it is for, and
// carries the OCI labels.
func checkConfig(t *testing.T, img v1.Image, arch string) {
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != arch {
		t.Errorf("config platform %s/%s, want linux/%s", cf.OS, cf.Architecture, arch)
	}
	if len(cf.Config.Entrypoint) != 1 || cf.Config.Entrypoint[0] != image.Entrypoint || len(cf.Config.Cmd) != 0 {
		t.Errorf("entrypoint %v cmd %v, want [%s] alone", cf.Config.Entrypoint, cf.Config.Cmd, image.Entrypoint)
	}
	if cf.Config.User != "65532:65532" {
		t.Errorf("user %q, want nonroot 65532:65532", cf.Config.User)
	}
	if !cf.Created.Time.Equal(testOptions.Created) {
		t.Errorf("created %v, want the source date %v", cf.Created, testOptions.Created)
	}
	want := map[string]string{
		"org.opencontainers.image.source":   testOptions.URL,
		"org.opencontainers.image.version":  testOptions.Version,
		"org.opencontainers.image.revision": testOptions.Revision,
	}
	for k, v := range want {
		if cf.Config.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, cf.Config.Labels[k], v)
		}
	}
}

// The layers hold the CA bundle, the users, and a static flowpol for the
// platform, and no shell; the amd64 binary runs here.
func checkFiles(t *testing.T, img v1.Image, arch string) {
	root := unpack(t, img)
	for _, sh := range []string{"bin/sh", "usr/bin/sh", "bin/busybox"} {
		if _, err := os.Lstat(filepath.Join(root, sh)); err == nil {
			t.Errorf("the image has a shell: /%s", sh)
		}
	}
	pemBytes, err := os.ReadFile(filepath.Join(root, "etc/ssl/certs/ca-certificates.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) || bytes.Count(pemBytes, []byte("BEGIN CERTIFICATE")) < 100 {
		t.Errorf("the CA bundle holds %d certificates; want Mozilla's roots", bytes.Count(pemBytes, []byte("BEGIN CERTIFICATE")))
	}
	if b, err := os.ReadFile(filepath.Join(root, "etc/passwd")); err != nil || !strings.Contains(string(b), "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd lacks nonroot: %q %v", b, err)
	}
	bin := filepath.Join(root, image.Entrypoint)
	checkELF(t, bin, map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[arch])
	if arch == runtime.GOARCH && runtime.GOOS == "linux" {
		out, err := exec.Command(bin, "version").CombinedOutput()
		if want := "flowpol " + testOptions.Version + " linux/" + arch + "\n"; err != nil || string(out) != want {
			t.Errorf("the entrypoint's version: %q %v, want %q", out, err, want)
		}
	}
}

// checkELF: the binary is for the machine and static (no interpreter, no
// dynamic section), so it needs nothing from the base.
func checkELF(t *testing.T, path string, machine elf.Machine) {
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != machine || f.Class != elf.ELFCLASS64 {
		t.Errorf("%s is %v %v, want %v", path, f.Class, f.Machine, machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s is dynamically linked (%v)", path, p.Type)
		}
	}
}

// unpack writes the image's flattened file system under a temporary
// directory, with each file's mode.
func unpack(t *testing.T, img v1.Image) string {
	t.Helper()
	root := t.TempDir()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return root
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(testOptions.Created) {
			t.Errorf("%s: mtime %v, want the source date", h.Name, h.ModTime)
		}
		p := filepath.Join(root, filepath.Clean("/"+h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, os.FileMode(h.Mode).Perm()); err != nil {
				t.Fatal(err)
			}
		default:
			t.Errorf("%s: unexpected entry type %c", h.Name, h.Typeflag)
		}
	}
}

// make image-push: the layout reaches a registry whole (here a registry
// served on a loopback port) and is pulled back with the same digest.
func checkPush(t *testing.T, dir string, idx v1.ImageIndex) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	ref := strings.TrimPrefix(srv.URL, "http://") + "/flowpol/flowpol:" + testOptions.Version
	d, err := image.Push(context.Background(), dir, ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := idx.Digest()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	pulled, err := remote.Index(r)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := pulled.Digest()
	if d != want || got != want {
		t.Errorf("pushed %s, pulled %s; the layout's index is %s", d, got, want)
	}
}

// Bad options are errors naming what is wrong, before anything is built.
func TestBuildRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts image.Options
		want string
	}{
		{"no version", image.Options{Platforms: []string{"linux/amd64"}}, "no version"},
		{"bad platform", image.Options{Version: "v1", Platforms: []string{"linux"}}, `platform "linux"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := image.Build(context.Background(), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}
