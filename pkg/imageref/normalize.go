package imageref

import "strings"

const (
	// DockerHub is the normalised name of the Docker Hub registry.
	DockerHub = "docker.io"
	// HubPrefix starts a normalised Docker Hub reference.
	HubPrefix = DockerHub + "/"
	// OfficialPrefix starts a normalised official Docker Hub reference, one
	// written with a single path component ("nginx").
	OfficialPrefix = HubPrefix + officialNamespace

	// officialNamespace is prepended to single-component Docker Hub names.
	officialNamespace = "library/"
)

// SplitHost splits the registry host off s, as written, without
// validating anything. The first path component is a registry host when
// it contains '.' or ':', is "localhost", or contains an uppercase letter;
// otherwise it is a Docker Hub namespace and host is "". Docker Hub's
// aliases (docker.io, index.docker.io, registry-1.docker.io, any case) are
// split off and reported as "" too: host is "" exactly when s is on Docker
// Hub. rest is repository[:tag][@digest].
func SplitHost(s string) (host, rest string) {
	host, rest, ok := cutHost(s)
	if !ok {
		return "", s
	}
	if isDockerHub(host) {
		return "", rest
	}
	return host, rest
}

// Normalize returns the normalised form of an image reference,
// registry/repository[:tag][@digest], in two parts whose concatenation is
// the normalised reference, without allocating: the registry is split off
// as SplitHost does; a Docker Hub reference is spelt "docker.io/...", and
// one with a single-component repository gets the "library/" prefix. Tag
// and digest are kept as written; nothing is validated (Parse validates).
//
// The split is a function of the normalised reference (head is "",
// HubPrefix or OfficialPrefix), so equal normalised references have equal
// parts and the parts can key a map.
func Normalize(s string) (head, tail string) {
	host, rest := SplitHost(s)
	switch {
	case host != "":
		return "", s
	case IsOfficial(rest):
		return OfficialPrefix, rest
	}
	if tail, ok := strings.CutPrefix(rest, officialNamespace); ok && IsOfficial(tail) {
		return OfficialPrefix, tail
	}
	return HubPrefix, rest
}

// IsOfficial reports whether rest, a Docker Hub repository[:tag][@digest]
// without its host, names an official image: its repository has a single
// path component, to which Docker Hub adds "library/".
func IsOfficial(rest string) bool {
	return strings.IndexByte(TrimTagDigest(rest), '/') < 0
}

// TrimTagDigest returns s without its tag and digest: what precedes the
// first '@', then the last ':' not followed by a '/'.
func TrimTagDigest(s string) string {
	name, _, _, _, _ := splitTagDigest(s)
	return name
}

// splitTagDigest splits s into name, tag and digest, without validating
// them; hasTag and hasDigest say whether s has a ':' and an '@' to
// separate them (that a tag or digest was given, empty or not).
func splitTagDigest(s string) (name, tag, digest string, hasTag, hasDigest bool) {
	name = s
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name, digest, hasDigest = name[:i], name[i+1:], true
	}
	if i := strings.LastIndexByte(name, ':'); i >= 0 && strings.IndexByte(name[i+1:], '/') < 0 {
		name, tag, hasTag = name[:i], name[i+1:], true
	}
	return name, tag, digest, hasTag, hasDigest
}

// cutHost splits the first path component of s off when it names a
// registry rather than a Docker Hub namespace.
func cutHost(s string) (host, rest string, ok bool) {
	i := strings.IndexByte(s, '/')
	if i < 0 || !isRegistryHost(s[:i]) {
		return "", s, false
	}
	return s[:i], s[i+1:], true
}

// isRegistryHost reports whether the first path component c names a
// registry rather than a Docker Hub namespace.
func isRegistryHost(c string) bool {
	if c == "localhost" {
		return true
	}
	for i := 0; i < len(c); i++ {
		if b := c[i]; b == '.' || b == ':' || ('A' <= b && b <= 'Z') {
			return true
		}
	}
	return false
}

// IsDockerHub reports whether host is one of the Docker Hub aliases
// (docker.io, index.docker.io, registry-1.docker.io, in any case).
func IsDockerHub(host string) bool { return isDockerHub(host) }

func isDockerHub(host string) bool {
	return strings.EqualFold(host, DockerHub) ||
		strings.EqualFold(host, "index.docker.io") ||
		strings.EqualFold(host, "registry-1.docker.io")
}
