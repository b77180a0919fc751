package ui

import (
	"embed"
	"io/fs"
)

// dist is the front end as make ui builds it; index.html is the page.
//
//go:embed all:dist
var dist embed.FS

// assets are the built files, rooted at dist.
func assets() (fs.FS, error) { return fs.Sub(dist, "dist") }
