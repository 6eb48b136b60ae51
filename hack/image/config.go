package main

import (
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// What the image runs, as the Dockerfile says it (dockerfile_test.go keeps
// the two in step).
const (
	// binaryPath is where the binary goes; the Dockerfile COPYs it there.
	binaryPath = "/tokenguard"
	// imageUser is distroless's nonroot user and group.
	imageUser = "65532:65532"
	// dockerfileBase is the Dockerfile's final base, which base.go stands
	// in for.
	dockerfileBase = "gcr.io/distroless/static:nonroot"
	sourceURL      = "https://github.com/tokenguard/tokenguard"
	title          = "tokenguard"
	description    = "Kubernetes admission webhook that keeps workloads which cannot refresh their bound service-account tokens out of a cluster"
)

var (
	entrypoint = []string{binaryPath}
	command    = []string{"serve"}
	// exposedPorts: HTTPS admission reviews, and metrics.
	exposedPorts = []string{"8443/tcp", "9090/tcp"}
	// environment is distroless's: the binary reads SSL_CERT_FILE.
	environment = []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"SSL_CERT_FILE=/" + caBundlePath,
	}
	// workingDir is distroless nonroot's, which the Dockerfile inherits.
	workingDir = "/home/nonroot"
)

// meta is what identifies a build.
type meta struct {
	// Version is the release ("v0.1.0", or git describe's output), stamped
	// into the binary as main.version.
	Version string
	// Revision is the git commit; "" when unknown.
	Revision string
	// Created is the build's time: the commit's or SOURCE_DATE_EPOCH,
	// never the clock, so that a build can be repeated bit for bit.
	Created time.Time
}

// OCI annotation keys (image-spec annotations.md), used as labels too.
const (
	annCreated     = "org.opencontainers.image.created"
	annVersion     = "org.opencontainers.image.version"
	annRevision    = "org.opencontainers.image.revision"
	annSource      = "org.opencontainers.image.source"
	annTitle       = "org.opencontainers.image.title"
	annDescription = "org.opencontainers.image.description"
	annRefName     = "org.opencontainers.image.ref.name"
)

// labels are the image's OCI labels, also the index's annotations. There
// is no org.opencontainers.image.licenses: the repository declares no
// license yet.
func labels(m meta) map[string]string {
	l := map[string]string{
		annCreated:     m.Created.UTC().Format(time.RFC3339),
		annVersion:     m.Version,
		annSource:      sourceURL,
		annTitle:       title,
		annDescription: description,
	}
	if m.Revision != "" {
		l[annRevision] = m.Revision
	}
	return l
}

// configFile is the image config of platform p, without its layers.
func configFile(m meta, p v1.Platform) *v1.ConfigFile {
	ports := make(map[string]struct{}, len(exposedPorts))
	for _, port := range exposedPorts {
		ports[port] = struct{}{}
	}
	return &v1.ConfigFile{
		Architecture: p.Architecture,
		OS:           p.OS,
		Variant:      p.Variant,
		Created:      v1.Time{Time: m.Created.UTC()},
		Config: v1.Config{
			User:         imageUser,
			Entrypoint:   append([]string(nil), entrypoint...),
			Cmd:          append([]string(nil), command...),
			ExposedPorts: ports,
			Env:          append([]string(nil), environment...),
			WorkingDir:   workingDir,
			Labels:       labels(m),
		},
		RootFS: v1.RootFS{Type: "layers"},
	}
}
