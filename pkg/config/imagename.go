package config

import "strings"

const (
	hubPrefix         = "docker.io/"
	officialHubPrefix = "docker.io/library/"
)

// normalizeImage returns the normalised form of an image reference,
// registry/repository[:tag][@digest], in two parts whose concatenation is
// the normalised reference, without allocating. It follows Docker's
// normalisation (as sdkdetect.ParseImage does): a first path component
// that contains '.' or ':', is "localhost" or has an uppercase letter is a
// registry host; otherwise the registry is Docker Hub, spelt "docker.io"
// (as are its aliases index.docker.io and registry-1.docker.io), and a
// one-component Hub repository gets the "library/" prefix. Tag and digest
// are kept as written; nothing is validated.
//
// The split is a function of the normalised reference (the head is "",
// "docker.io/" or "docker.io/library/"), so equal normalised references
// have equal parts and the parts can key a map.
func normalizeImage(s string) name {
	rest := s
	if i := strings.IndexByte(s, '/'); i >= 0 && isRegistryHost(s[:i]) {
		if !isDockerHub(s[:i]) {
			return name{b: s}
		}
		rest = s[i+1:]
	}
	if strings.IndexByte(repoPart(rest), '/') < 0 {
		return name{a: officialHubPrefix, b: rest}
	}
	if tail, ok := strings.CutPrefix(rest, "library/"); ok && strings.IndexByte(repoPart(tail), '/') < 0 {
		return name{a: officialHubPrefix, b: tail}
	}
	return name{a: hubPrefix, b: rest}
}

// normalizePattern normalises an image pattern the way normalizeImage
// normalises a reference, when that is decidable: when the pattern's first
// path component has no wildcard (it tells a registry host from a Docker
// Hub namespace), or when the pattern has no '/' and no "**" (it can then
// only match a one-component Docker Hub name). ok is false otherwise.
func normalizePattern(p string) (norm string, ok bool) {
	first, rest, slash := strings.Cut(p, "/")
	if !slash {
		if strings.Contains(p, "**") {
			return "", false
		}
		return officialHubPrefix + p, true
	}
	if isGlob(first) {
		return "", false
	}
	if isRegistryHost(first) {
		if !isDockerHub(first) {
			return p, true
		}
	} else {
		rest = p
	}
	if r := repoPart(rest); strings.IndexByte(r, '/') < 0 && !strings.Contains(r, "**") {
		return officialHubPrefix + rest, true
	}
	return hubPrefix + rest, true
}

// repoPart returns s without its tag and digest.
func repoPart(s string) string {
	if i := strings.IndexByte(s, '@'); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 && strings.IndexByte(s[i+1:], '/') < 0 {
		s = s[:i]
	}
	return s
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

// isDockerHub reports whether host is one of the Docker Hub aliases.
func isDockerHub(host string) bool {
	return strings.EqualFold(host, "docker.io") ||
		strings.EqualFold(host, "index.docker.io") ||
		strings.EqualFold(host, "registry-1.docker.io")
}
