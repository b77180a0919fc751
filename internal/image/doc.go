// Package image builds flowpol's container image without a container
// engine: static flowpol binaries (CGO_ENABLED=0, -trimpath, no build id)
// for each platform, on a base of only what such a binary needs (CA
// certificates from a pinned Go bundle, /etc/passwd and /etc/group naming
// the nonroot user, an empty /tmp; no shell), written as an OCI image
// layout whose index.json holds one manifest per platform. Every tar entry
// is sorted and stamped with the source date, so one commit gives one set
// of digests. Push copies a layout to a registry.
//
// Build needs the go command and the repository's source; it returns
// nothing that holds files or processes open.
package image
