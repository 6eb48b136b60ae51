package reports

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// namePrefix starts every report's name.
const namePrefix = "tokenguard-"

// hashLen is the hex digits of the hash that ends a shortened name or
// label value.
const hashLen = 10

// Name is the report's name for a workload: "tokenguard-<kind>-<name>" in
// lower case ("tokenguard-deployment-api"). Kinds hold no "-", so distinct
// workloads of a namespace get distinct names. A name longer than a DNS
// subdomain allows (253) is cut and ends in "-" and a hash of kind and
// name; characters a subdomain cannot hold (none, for a real workload)
// become "-" and add the hash too.
func Name(kind, name string) string {
	full := namePrefix + strings.ToLower(kind) + "-" + strings.ToLower(name)
	if len(validation.IsDNS1123Subdomain(full)) == 0 {
		return full
	}
	return withHash(full, validation.DNS1123SubdomainMaxLength, kind+"/"+name, subdomainChars)
}

// LabelValue returns v when it is a valid label value, else v cut to fit,
// its invalid characters replaced by "-", ending in "-" and a hash of v.
func LabelValue(v string) string {
	if len(validation.IsValidLabelValue(v)) == 0 {
		return v
	}
	return withHash(v, validation.LabelValueMaxLength, v, labelChars)
}

// charset says which bytes may appear and which of them separate
// alphanumeric runs (and so may not start, end or follow each other).
type charset struct{ upper, underscore bool }

var (
	subdomainChars = charset{}
	labelChars     = charset{upper: true, underscore: true}
)

func (cs charset) sep(c byte) bool { return c == '-' || c == '.' || cs.underscore && c == '_' }

func (cs charset) alnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || cs.upper && c >= 'A' && c <= 'Z'
}

// withHash makes s valid for cs within max bytes, ending in "-" and a hash
// of key: bytes outside cs become "-", a run of separators becomes its
// first one (or "-" when the run mixes them, so that "a.-b" gives "a-b"),
// separators at either end go, and s is cut so that the suffix fits.
func withHash(s string, max int, key string, cs charset) string {
	sum := sha256.Sum256([]byte(key))
	suffix := hex.EncodeToString(sum[:])[:hashLen]
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !cs.alnum(c) && !cs.sep(c) {
			c = '-'
		}
		switch {
		case cs.alnum(c):
			out = append(out, c)
		case len(out) == 0: // no separator first
		case cs.sep(out[len(out)-1]):
			if out[len(out)-1] != c {
				out[len(out)-1] = '-'
			}
		default:
			out = append(out, c)
		}
	}
	if n := max - 1 - hashLen; len(out) > n {
		out = out[:n]
	}
	for len(out) > 0 && cs.sep(out[len(out)-1]) {
		out = out[:len(out)-1]
	}
	if len(out) == 0 {
		return suffix
	}
	return string(out) + "-" + suffix
}
