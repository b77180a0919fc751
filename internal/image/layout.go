package image

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// WriteLayout writes the index as an OCI image layout at dir, whole or not
// at all: it is written beside dir, read back and validated (every blob
// against its digest), and renamed into place, replacing what dir held.
func WriteLayout(dir string, idx v1.ImageIndex) (err error) {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return err
	}
	defer func() {
		if rerr := os.RemoveAll(tmp); rerr != nil && err == nil {
			err = rerr
		}
	}()
	if _, err := layout.Write(tmp, idx); err != nil {
		return fmt.Errorf("write image layout %s: %w", dir, err)
	}
	if _, err := ReadLayout(tmp); err != nil { // what is on disk, checked before it replaces dir
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	old := tmp + ".old"
	if err := os.Rename(dir, old); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("replace %s: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("replace %s: %w", dir, err)
	}
	return os.RemoveAll(old)
}

// ReadLayout opens the image layout at dir and checks every blob against
// its digest.
func ReadLayout(dir string) (v1.ImageIndex, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("image layout %s: %w", dir, err)
	}
	if err := validate.Index(idx); err != nil {
		return nil, fmt.Errorf("image layout %s: %w", dir, err)
	}
	return idx, nil
}

// Push copies the image layout at dir to ref (registry/repository:tag),
// authenticating as docker and podman's login files say.
func Push(ctx context.Context, dir, ref string, opts ...name.Option) (v1.Hash, error) {
	r, err := name.ParseReference(ref, opts...)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("image reference %q: %w", ref, err)
	}
	idx, err := ReadLayout(dir)
	if err != nil {
		return v1.Hash{}, err
	}
	if err := remote.WriteIndex(r, idx, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		return v1.Hash{}, fmt.Errorf("push %s: %w", r, err)
	}
	return idx.Digest()
}
