package image

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Entrypoint is where the image holds the flowpol binary.
const Entrypoint = "/usr/bin/flowpol"

// VersionVariable is the linker variable -X sets to the version the
// binary's `flowpol version` prints.
const VersionVariable = "github.com/flowpol/flowpol/cmd/flowpol/cli.linkedVersion"

// Options say what to build.
type Options struct {
	// Source is the module's root directory (zero: the working directory).
	Source string
	// Platforms are "os/arch" pairs (zero: linux/amd64 and linux/arm64).
	Platforms []string
	// Version is the version the binary prints and the image is labelled
	// with, e.g. v0.1.0; required.
	Version string
	// Revision is the commit the image is built from (a label; may be empty).
	Revision string
	// URL is the source repository's address (the source label; may be empty).
	URL string
	// Created stamps every file, layer and config (SOURCE_DATE_EPOCH: the
	// commit's time); zero is the Unix epoch.
	Created time.Time
	// Go is the go command (zero: "go" on the PATH).
	Go string
}

// DefaultPlatforms are the platforms built when Options.Platforms is empty.
var DefaultPlatforms = []string{"linux/amd64", "linux/arm64"}

func (o Options) platforms() []string {
	if len(o.Platforms) == 0 {
		return DefaultPlatforms
	}
	return o.Platforms
}

// Build compiles flowpol for each platform and returns the multi-platform
// index, every blob held in memory.
func Build(ctx context.Context, o Options) (v1.ImageIndex, error) {
	if o.Version == "" {
		return nil, fmt.Errorf("image: no version")
	}
	if len(o.platforms()) == 0 {
		return nil, ErrNoPlatforms
	}
	if o.Created.IsZero() {
		o.Created = time.Unix(0, 0)
	}
	o.Created = o.Created.UTC()
	base, err := layer(baseFiles(), o.Created)
	if err != nil {
		return nil, fmt.Errorf("base layer: %w", err)
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range o.platforms() {
		img, plat, err := platformImage(ctx, o, p, base)
		if err != nil {
			return nil, err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: plat}})
	}
	return mutate.Annotations(idx, o.labels()).(v1.ImageIndex), nil
}

// labels are the OCI annotations of the image and its index.
func (o Options) labels() map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title":   "flowpol",
		"org.opencontainers.image.version": o.Version,
		"org.opencontainers.image.created": o.Created.Format(time.RFC3339),
	}
	if o.Revision != "" {
		l["org.opencontainers.image.revision"] = o.Revision
	}
	if o.URL != "" {
		l["org.opencontainers.image.source"] = o.URL
	}
	return l
}

// platformImage is one platform's image: the base layer and the binary.
func platformImage(ctx context.Context, o Options, platform string, base v1.Layer) (v1.Image, *v1.Platform, error) {
	goos, arch, ok := strings.Cut(platform, "/")
	if !ok || goos == "" || arch == "" {
		return nil, nil, fmt.Errorf("platform %q: want os/arch", platform)
	}
	bin, err := GoBuild(ctx, o, goos, arch)
	if err != nil {
		return nil, nil, err
	}
	app, err := layer([]entry{
		{name: "usr/", mode: 0o755, dir: true},
		{name: "usr/bin/", mode: 0o755, dir: true},
		{name: strings.TrimPrefix(Entrypoint, "/"), mode: 0o755, data: bin},
	}, o.Created)
	if err != nil {
		return nil, nil, fmt.Errorf("%s layer: %w", platform, err)
	}
	img, err := assemble(o, goos, arch, base, app)
	if err != nil {
		return nil, nil, fmt.Errorf("%s image: %w", platform, err)
	}
	return img, &v1.Platform{OS: goos, Architecture: arch}, nil
}

func assemble(o Options, goos, arch string, layers ...v1.Layer) (v1.Image, error) {
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	created := v1.Time{Time: o.Created}
	img, err := mutate.Append(img,
		mutate.Addendum{Layer: layers[0], History: v1.History{Created: created, CreatedBy: "flowpol base: CA certificates, users, /tmp", Comment: "no shell"}},
		mutate.Addendum{Layer: layers[1], History: v1.History{Created: created, CreatedBy: "flowpol " + o.Version + " (CGO_ENABLED=0 go build -trimpath)"}})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = goos, arch, created
	cf.Config = v1.Config{
		Entrypoint: []string{Entrypoint},
		User:       nonroot + ":" + nonroot,
		WorkingDir: "/",
		Env:        []string{"PATH=/usr/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"},
		Labels:     o.labels(),
	}
	return mutate.ConfigFile(img, cf)
}

// GoBuild compiles a static flowpol for goos/arch and returns the binary:
// CGO_ENABLED=0, -trimpath, no build id and no VCS stamp (the revision is
// a label), so the same source gives the same bytes.
func GoBuild(ctx context.Context, o Options, goos, arch string) (bin []byte, err error) {
	dir, err := os.MkdirTemp("", "flowpol-image-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if rerr := os.RemoveAll(dir); rerr != nil && err == nil {
			bin, err = nil, rerr
		}
	}()
	out := filepath.Join(dir, "flowpol")
	gocmd := o.Go
	if gocmd == "" {
		gocmd = "go"
	}
	cmd := exec.CommandContext(ctx, gocmd, "build", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -buildid= -X "+VersionVariable+"="+o.Version,
		"-o", out, "./cmd/flowpol")
	cmd.Dir = o.Source
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+arch, "GOFLAGS=-mod=readonly")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go build flowpol for %s/%s: %w\n%s", goos, arch, err, stderr.Bytes())
	}
	return os.ReadFile(out)
}
