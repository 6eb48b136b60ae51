package config

import (
	"strings"

	"github.com/tokenguard/tokenguard/pkg/imageref"
)

// normalizeImage returns the normalised form of an image reference,
// registry/repository[:tag][@digest], in two parts whose concatenation is
// the normalised reference, without allocating: imageref.Normalize, the
// normalisation imageref.Parse applies. Nothing is validated.
func normalizeImage(s string) name {
	head, tail := imageref.Normalize(s)
	return name{a: head, b: tail}
}

// normalizePattern normalises an image pattern the way normalizeImage
// normalises a reference, when that is decidable: when the pattern's first
// path component has no wildcard (it tells a registry host from a Docker
// Hub namespace), or when the pattern has no '/' and no "**" (it can then
// only match a one-component Docker Hub name). A Docker Hub repository
// with "**" may have several components, so it gets no "library/". ok is
// false otherwise.
func normalizePattern(p string) (norm string, ok bool) {
	first, _, slash := strings.Cut(p, "/")
	switch {
	case !slash && strings.Contains(p, "**"), slash && isGlob(first):
		return "", false
	}
	host, rest := imageref.SplitHost(p)
	switch {
	case host != "":
		return p, true
	case imageref.IsOfficial(rest) && !strings.Contains(imageref.TrimTagDigest(rest), "**"):
		return imageref.OfficialPrefix + rest, true
	}
	return imageref.HubPrefix + rest, true
}
