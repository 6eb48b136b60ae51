package scheme

import "strings"

// Reasons carried by Results. They are constant clauses; the caller adds
// the version found and the minimum.
const (
	// ReasonEmpty: the version found is empty or blank.
	ReasonEmpty = "no version given"
	// ReasonFloating: a moving tag such as latest, stable, edge-debian.
	ReasonFloating = "floating tag names no version"
	// ReasonDigest: sha256:…, …@sha256:…, cosign's sha256-… tags.
	ReasonDigest = "a digest names no version"
	// ReasonUnparsable: anything else the scheme cannot read.
	ReasonUnparsable = "not a version this scheme understands"
	// ReasonPartialSpans: a partial version (1.8, v1) whose completions
	// lie on both sides of the minimum.
	ReasonPartialSpans = "partial version spans the minimum"
	// ReasonUnknownSuffix: semver tag with a suffix that is neither a
	// prerelease nor a known build/flavour suffix, on the minimum's own
	// X.Y.Z.
	ReasonUnknownSuffix = "unrecognised suffix on a version equal to the minimum"
	// ReasonFourPart: semver tag with four numeric parts.
	ReasonFourPart = "four-part version is not semver"
	// ReasonPseudoNoBase: Go pseudo-version vX.0.0-<date>-<hash> that no
	// window can place.
	ReasonPseudoNoBase = "pseudo-version has no release to compare"
	// ReasonPseudoWindow: client-go pseudo-version dated inside a custom
	// fix window (see NewClientGoMinimum).
	ReasonPseudoWindow = "pseudo-version dated inside the fix window"
	// ReasonPseudoWindow19: the same inside the default window.
	ReasonPseudoWindow19 = "pseudo-version dated inside the fix window (May–June 2019)"
	// ReasonPlaceholder: client-go v0.0.0, the version a module required
	// only to be replaced by a local copy (binaries built inside the
	// Kubernetes repository, whose staging client-go is the tree's own).
	ReasonPlaceholder = "v0.0.0 is a placeholder for a local copy (a build inside the Kubernetes repository), not a release"
	// ReasonNotClientGo: client-go major 13 or above never existed.
	ReasonNotClientGo = "not a client-go release"
	// ReasonLegacyClientGo accompanies TooOld for client-go v1.4 to v11.
	ReasonLegacyClientGo = "client-go legacy major (v1.4 to v11) predates the token-refresh fix"
	// ReasonV12Prerelease: a prerelease or pseudo-version before
	// client-go v12.0.0.
	ReasonV12Prerelease = "prerelease of client-go v12.0.0 may predate the fix"
	// ReasonV12AboveFix: a client-go v12 pseudo-version against a
	// minimum above v0.15.7.
	ReasonV12AboveFix = "client-go v12 pseudo-version cannot be placed against a minimum above v0.15.7"
	// ReasonK8sTagPre: kubernetes-1.X.Y-<pre> where 1.X.Y is the first
	// patch of its line with the fix.
	ReasonK8sTagPre = "prerelease of the first kubernetes tag that carries the fix"
	// ReasonUnreleased accompanies TooOld for the rubygems minimum
	// "unreleased".
	ReasonUnreleased = "no released version refreshes tokens (fixed only on the master branch)"
	// ReasonNoRevision: Fluentd tag without image revision on the
	// minimum's version.
	ReasonNoRevision = "image revision unknown"
	// ReasonNoBuildDate: Fluent Bit three-part tag against a four-part
	// minimum with the same version.
	ReasonNoBuildDate = "build date unknown"
	// ReasonForeignMinimum: Check got a Minimum another scheme parsed
	// (or nil).
	ReasonForeignMinimum = "minimum was not parsed by this scheme"
	// ReasonTooManyElements: Maven or RubyGems version with more than 32
	// items/segments.
	ReasonTooManyElements = "version has too many elements"
)

// floatingWords are tag names that move: they name no version.
var floatingWords = [...]string{
	"latest", "stable", "edge", "main", "master", "nightly", "mainline",
	"dev", "develop", "development", "head", "canary", "current", "release",
	"unstable", "snapshot", "testing", "next", "lts", "trunk", "beta",
	"alpha", "preview", "experimental",
}

func unknown(reason string) Result { return Result{Outcome: Unknown, Reason: reason} }

// Unparsable is the Unknown result for a version no scheme could read:
// its reason says whether found is empty, a digest, a floating tag or
// something else (ReasonUnparsable). Orderings outside this package (the
// kube-proxy skew rule) use it so their messages say the same.
func Unparsable(found string) Result { return unparsable(found) }

// unparsable explains why found could not be parsed: empty, digest,
// floating word, or plain garbage.
func unparsable(found string) Result {
	s := trimSpace(found)
	switch {
	case s == "":
		return unknown(ReasonEmpty)
	case isDigest(s):
		return unknown(ReasonDigest)
	case isFloating(s):
		return unknown(ReasonFloating)
	}
	return unknown(ReasonUnparsable)
}

// isDigest reports digests and digest-derived tags: "sha256:…",
// "…@sha256:…", cosign's "sha256-…" and a bare 64-hex image ID.
func isDigest(s string) bool {
	for _, p := range [...]string{"sha256:", "sha384:", "sha512:", "sha256-", "sha512-"} {
		if hasPrefixFold(s, p) {
			return true
		}
	}
	if strings.Contains(s, "@sha") {
		return true
	}
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

// isFloating reports a tag whose separator-delimited words include a
// floating word and none looks like a version (starts with a digit, or
// "v" and a digit): "latest", "edge-debian", "windowsservercore-latest",
// "latest-amd64".
func isFloating(s string) bool {
	floating := false
	for more := true; more; {
		var w string
		w, s, more = nextWord(s, "-_./:")
		if w == "" {
			continue
		}
		if isDigit(w[0]) || len(w) > 1 && (w[0] == 'v' || w[0] == 'V') && isDigit(w[1]) {
			return false
		}
		if isWord(w, floatingWords[:]) {
			floating = true
		}
	}
	return floating
}
