package v1alpha1

import "strings"

// digestAlgorithms are the digest algorithms accepted in spec.digest and
// their hex lengths: those image references may name (Docker's reference
// package with go-digest, as pkg/imageref accepts).
var digestAlgorithms = [...]struct {
	name   string
	hexLen int
}{{"sha256", 64}, {"sha384", 96}, {"sha512", 128}}

// MaxDigestLength bounds spec.digest: "sha512:" and 128 hex digits.
const MaxDigestLength = len("sha512:") + 128

// ValidDigest reports whether digest is a manifest digest spec.digest
// accepts: "sha256:" and 64 lowercase hex digits (or sha384 with 96, sha512
// with 128).
func ValidDigest(digest string) bool {
	alg, hex, ok := strings.Cut(digest, ":")
	if !ok {
		return false
	}
	for _, a := range digestAlgorithms {
		if a.name == alg {
			return len(hex) == a.hexLen && isLowerHex(hex)
		}
	}
	return false
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// ObjectName returns the name of the ImageEvidence of digest, the digest
// with '-' for ':' ("sha256-<hex>", a valid DNS subdomain name), or ""
// when the digest is not valid (ValidDigest). The CRD rejects an object
// whose name is not ObjectName(spec.digest).
func ObjectName(digest string) string {
	if !ValidDigest(digest) {
		return ""
	}
	return strings.Replace(digest, ":", "-", 1)
}

// DigestOf returns the digest whose ImageEvidence is named name, or "" when
// ObjectName makes no such name.
func DigestOf(name string) string {
	alg, hex, ok := strings.Cut(name, "-")
	if !ok || !ValidDigest(alg+":"+hex) {
		return ""
	}
	return alg + ":" + hex
}
