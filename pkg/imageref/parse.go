package imageref

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// ErrInvalidReference is wrapped by every error Parse returns.
var ErrInvalidReference = errors.New("invalid image reference")

// Error is an invalid image reference and what is wrong with it.
type Error struct {
	// Reference is the reference as given.
	Reference string
	// Detail says what is wrong ("tag \"-1\" must start with a letter,
	// digit or '_'"), without repeating the reference.
	Detail string
}

// Error returns `invalid image reference "<reference>": <detail>`.
func (e *Error) Error() string {
	return ErrInvalidReference.Error() + " " + strconv.Quote(e.Reference) + ": " + e.Detail
}

// Unwrap returns ErrInvalidReference.
func (e *Error) Unwrap() error { return ErrInvalidReference }

const (
	// maxRepositoryLength bounds the repository path, as Docker's reference
	// package (v0.6) does. The OCI distribution spec notes that many
	// clients bound registry + "/" + repository instead; the looser limit
	// is used so that nothing a runtime accepts is rejected here.
	maxRepositoryLength = 255
	// maxTagLength bounds a tag.
	maxTagLength = 128
)

// Parse parses a container image reference such as
// "602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.8.0-eksbuild.1"
// with the grammar and normalisation of Docker's reference package
// (github.com/distribution/reference, ParseNormalizedNamed):
//
//   - The first path component is a registry host when it contains '.' or
//     ':', is "localhost", or contains an uppercase letter; otherwise the
//     registry is Docker Hub. Hosts may carry a port ("localhost:5000") and
//     may be a bracketed IPv6 address ("[::1]:5000").
//   - Docker Hub is always reported as "docker.io": "index.docker.io" and
//     "registry-1.docker.io" (any case) are folded into it, and a
//     single-component Hub repository gets the "library/" prefix
//     ("nginx" is docker.io/library/nginx). Normalize applies the same
//     rules without validating.
//   - Other registry hosts are kept as written. Hostnames are
//     case-insensitive, so callers must compare them with strings.EqualFold.
//   - The repository must be lowercase; each component is runs of [a-z0-9]
//     joined by ".", "_", "__" or one or more "-". The repository,
//     "library/" prefix included, may be at most 255 bytes.
//   - Tag is empty when the reference has none. It is NOT defaulted to
//     "latest": whether a missing tag means "latest" (or nothing, when a
//     digest is given) is the caller's decision.
//   - A reference may have both a tag and a digest ("name:tag@sha256:…");
//     both are kept. Digests must be sha256 (64), sha384 (96) or sha512
//     (128) lowercase hex digits, the algorithms Docker's reference
//     package (with go-digest) accepts; others are rejected as unsupported.
//   - A bare 64-hex-digit string is an image ID, not a reference, and is
//     rejected.
//
// Registry (except the constant "docker.io"), Repository, Tag and Digest
// share memory with s; the only allocation is the "library/" prefix of an
// official Docker Hub image.
// Every error is an *Error, wraps ErrInvalidReference and says what is
// wrong.
func Parse(s string) (policy.ImageRef, error) {
	if s == "" {
		return policy.ImageRef{}, refError(s, "empty reference")
	}
	if isImageID(s) {
		return policy.ImageRef{}, refError(s, "a 64-digit hex string is an image ID, not a reference")
	}

	name, tag, digest, hasTag, hasDigest := splitTagDigest(s)
	if hasDigest {
		if err := checkDigest(s, digest); err != nil {
			return policy.ImageRef{}, err
		}
	}
	if hasTag {
		if err := checkTag(s, tag); err != nil {
			return policy.ImageRef{}, err
		}
	}
	if name == "" {
		return policy.ImageRef{}, refError(s, "missing repository name")
	}

	registry, repo := DockerHub, name
	if host, rest, ok := cutHost(name); ok {
		registry, repo = host, rest
		if err := checkRegistry(s, registry); err != nil {
			return policy.ImageRef{}, err
		}
		if isDockerHub(registry) {
			registry = DockerHub
		}
	}
	if err := checkRepository(s, repo); err != nil {
		return policy.ImageRef{}, err
	}
	official := registry == DockerHub && strings.IndexByte(repo, '/') < 0
	n := len(repo)
	if official {
		n += len(officialNamespace)
	}
	if n > maxRepositoryLength {
		return policy.ImageRef{}, refError(s, fmt.Sprintf("repository is %d bytes long, more than %d", n, maxRepositoryLength))
	}
	if official {
		repo = officialNamespace + repo
	}
	return policy.ImageRef{
		Original:   s,
		Registry:   registry,
		Repository: repo,
		Tag:        tag,
		Digest:     digest,
	}, nil
}

func refError(s, detail string) error {
	return &Error{Reference: s, Detail: detail}
}

// isImageID reports whether s is 64 lowercase hex digits.
func isImageID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLowerHex(s[i]) {
			return false
		}
	}
	return true
}

// checkRegistry validates host[:port], where host is a DNS name, an IPv4
// address or a bracketed IPv6 address.
func checkRegistry(s, reg string) error {
	host, port, hasPort := reg, "", false
	if reg[0] == '[' {
		end := strings.IndexByte(reg, ']')
		if end < 0 {
			return refError(s, fmt.Sprintf("registry %q: unterminated IPv6 address", reg))
		}
		ip := reg[1:end]
		if ip == "" || strings.Trim(ip, "0123456789abcdefABCDEF:") != "" {
			return refError(s, fmt.Sprintf("registry %q: invalid IPv6 address", reg))
		}
		switch rest := reg[end+1:]; {
		case rest == "":
		case rest[0] == ':':
			port, hasPort = rest[1:], true
		default:
			return refError(s, fmt.Sprintf("registry %q: unexpected %q after IPv6 address", reg, rest))
		}
	} else {
		if i := strings.IndexByte(reg, ':'); i >= 0 {
			host, port, hasPort = reg[:i], reg[i+1:], true
		}
		if !isDomainName(host) {
			return refError(s, fmt.Sprintf("registry %q: invalid host name %q", reg, host))
		}
	}
	if hasPort {
		if port == "" || strings.Trim(port, "0123456789") != "" {
			return refError(s, fmt.Sprintf("registry %q: port %q is not a number", reg, port))
		}
	}
	return nil
}

// isDomainName reports whether h is dot-separated labels of letters,
// digits and inner hyphens.
func isDomainName(h string) bool {
	if h == "" {
		return false
	}
	for {
		label, rest, more := strings.Cut(h, ".")
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if b := label[i]; !isAlnum(b) && b != '-' {
				return false
			}
		}
		if !more {
			return true
		}
		h = rest
	}
}

// checkRepository validates a repository path: '/'-separated components of
// lowercase alphanumeric runs joined by ".", "_", "__" or "-"+.
func checkRepository(s, repo string) error {
	if repo == "" {
		return refError(s, "missing repository name")
	}
	for i := 0; i < len(repo); i++ {
		if b := repo[i]; 'A' <= b && b <= 'Z' {
			return refError(s, fmt.Sprintf("repository %q must be lowercase", repo))
		}
	}
	for rest := repo; ; {
		var c string
		var more bool
		c, rest, more = strings.Cut(rest, "/")
		if detail := checkPathComponent(c); detail != "" {
			return refError(s, fmt.Sprintf("repository %q: path component %q %s", repo, c, detail))
		}
		if !more {
			return nil
		}
	}
}

// checkPathComponent returns "" when c is a valid path component, or what
// is wrong with it.
func checkPathComponent(c string) string {
	if c == "" {
		return "is empty"
	}
	i := 0
	for {
		if !isLowerAlnum(c[i]) {
			if isSeparator(c[i]) {
				return "must start with a letter or digit and have one separator between letters and digits"
			}
			return fmt.Sprintf("has invalid character %q", c[i])
		}
		for i < len(c) && isLowerAlnum(c[i]) {
			i++
		}
		if i == len(c) {
			return ""
		}
		switch c[i] {
		case '.':
			i++
		case '_':
			i++
			if i < len(c) && c[i] == '_' {
				i++
			}
		case '-':
			for i < len(c) && c[i] == '-' {
				i++
			}
		default:
			return fmt.Sprintf("has invalid character %q", c[i])
		}
		if i == len(c) {
			return "must end with a letter or digit"
		}
	}
}

func isSeparator(b byte) bool { return b == '.' || b == '_' || b == '-' }

// checkTag validates a tag against [\w][\w.-]{0,127}.
func checkTag(s, tag string) error {
	switch {
	case tag == "":
		return refError(s, "empty tag after ':'")
	case len(tag) > maxTagLength:
		return refError(s, fmt.Sprintf("tag is %d characters long, more than %d", len(tag), maxTagLength))
	case !isWordChar(tag[0]):
		return refError(s, fmt.Sprintf("tag %q must start with a letter, digit or '_'", tag))
	}
	for i := 1; i < len(tag); i++ {
		if b := tag[i]; !isWordChar(b) && b != '.' && b != '-' {
			return refError(s, fmt.Sprintf("tag %q has invalid character %q", tag, b))
		}
	}
	return nil
}

// checkDigest validates algorithm:hex for the algorithms Docker supports.
func checkDigest(s, d string) error {
	algo, hex, ok := strings.Cut(d, ":")
	if !ok {
		return refError(s, fmt.Sprintf("digest %q is not of the form algorithm:hex", d))
	}
	var want int
	switch algo {
	case "sha256":
		want = 64
	case "sha384":
		want = 96
	case "sha512":
		want = 128
	case "":
		return refError(s, fmt.Sprintf("digest %q has no algorithm", d))
	default:
		return refError(s, fmt.Sprintf("digest %q: unsupported algorithm %q (want sha256, sha384 or sha512)", d, algo))
	}
	if len(hex) != want {
		return refError(s, fmt.Sprintf("digest %q: %s needs %d hex digits, got %d", d, algo, want, len(hex)))
	}
	for i := 0; i < len(hex); i++ {
		if !isLowerHex(hex[i]) {
			return refError(s, fmt.Sprintf("digest %q: %q is not a lowercase hex digit", d, hex[i]))
		}
	}
	return nil
}

func isLowerHex(b byte) bool   { return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' }
func isLowerAlnum(b byte) bool { return '0' <= b && b <= '9' || 'a' <= b && b <= 'z' }
func isAlnum(b byte) bool      { return isLowerAlnum(b) || 'A' <= b && b <= 'Z' }
func isWordChar(b byte) bool   { return isAlnum(b) || b == '_' }
