package image

import (
	"encoding/pem"
	"strings"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// nonroot is the user and group the image runs as unless a pod says
// otherwise: distroless's nonroot, which the manifests' runAsUser name.
const nonroot = "65532"

// caBundle is the roots of the pinned Mozilla bundle, as PEM. Roots that
// carry a distrust-after date are left out: a PEM file cannot say it, and
// trusting them without it would trust more than the bundle does.
func caBundle() []byte {
	var b strings.Builder
	for r := range bundle.Roots() {
		if r.Constraint != nil {
			continue
		}
		b.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.Certificate}))
	}
	return []byte(b.String())
}

// baseFiles are the base layer's entries: the CA bundle where Go (and
// OpenSSL) look for it, the users and groups, and a /tmp.
func baseFiles() []entry {
	return []entry{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/group", mode: 0o644, data: []byte("root:x:0:\nnonroot:x:" + nonroot + ":\n")},
		{name: "etc/passwd", mode: 0o644, data: []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:" + nonroot + ":" + nonroot + ":nonroot:/home/nonroot:/sbin/nologin\n")},
		{name: "etc/ssl/", mode: 0o755, dir: true},
		{name: "etc/ssl/certs/", mode: 0o755, dir: true},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: caBundle()},
		{name: "home/", mode: 0o755, dir: true},
		{name: "home/nonroot/", mode: 0o700, dir: true, uid: 65532},
		{name: "tmp/", mode: 0o1777, dir: true},
	}
}
