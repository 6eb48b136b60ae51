package sdkdetect

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// ErrInvalidReference is wrapped by every error ParseImage returns.
var ErrInvalidReference = errors.New("invalid image reference")

const (
	// dockerHub is the normalised name of the Docker Hub registry.
	dockerHub = "docker.io"
	// officialRepoPrefix is prepended to single-component Docker Hub names.
	officialRepoPrefix = "library/"
	// maxRepositoryLength bounds the repository path, as Docker's reference
	// package (v0.6) does. The OCI distribution spec notes that many
	// clients bound registry + "/" + repository instead; the looser limit
	// is used so that nothing a runtime accepts is rejected here.
	maxRepositoryLength = 255
	// maxTagLength bounds a tag.
	maxTagLength = 128
)

// ParseImage parses a container image reference such as
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
//     ("nginx" is docker.io/library/nginx).
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
// Every error wraps ErrInvalidReference and says what is wrong.
func ParseImage(s string) (policy.ImageRef, error) {
	if s == "" {
		return policy.ImageRef{}, refError(s, "empty reference")
	}
	if isImageID(s) {
		return policy.ImageRef{}, refError(s, "a 64-digit hex string is an image ID, not a reference")
	}

	name := s
	var tag, digest string
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name, digest = name[:i], name[i+1:]
		if err := checkDigest(s, digest); err != nil {
			return policy.ImageRef{}, err
		}
	}
	if i := strings.LastIndexByte(name, ':'); i >= 0 && strings.IndexByte(name[i+1:], '/') < 0 {
		name, tag = name[:i], name[i+1:]
		if err := checkTag(s, tag); err != nil {
			return policy.ImageRef{}, err
		}
	}
	if name == "" {
		return policy.ImageRef{}, refError(s, "missing repository name")
	}

	registry, repo := dockerHub, name
	if i := strings.IndexByte(name, '/'); i >= 0 && isRegistryHost(name[:i]) {
		registry, repo = name[:i], name[i+1:]
		if err := checkRegistry(s, registry); err != nil {
			return policy.ImageRef{}, err
		}
		if isDockerHub(registry) {
			registry = dockerHub
		}
	}
	if err := checkRepository(s, repo); err != nil {
		return policy.ImageRef{}, err
	}
	official := registry == dockerHub && strings.IndexByte(repo, '/') < 0
	n := len(repo)
	if official {
		n += len(officialRepoPrefix)
	}
	if n > maxRepositoryLength {
		return policy.ImageRef{}, refError(s, fmt.Sprintf("repository is %d bytes long, more than %d", n, maxRepositoryLength))
	}
	if official {
		repo = officialRepoPrefix + repo
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
	return fmt.Errorf("%w %q: %s", ErrInvalidReference, s, detail)
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

// isRegistryHost reports whether the first path component c names a
// registry rather than a Docker Hub namespace.
func isRegistryHost(c string) bool {
	if c == "localhost" {
		return true
	}
	for i := 0; i < len(c); i++ {
		switch b := c[i]; {
		case b == '.' || b == ':':
			return true
		case 'A' <= b && b <= 'Z':
			return true
		}
	}
	return false
}

// isDockerHub reports whether host is one of the Docker Hub aliases.
func isDockerHub(host string) bool {
	return strings.EqualFold(host, dockerHub) ||
		strings.EqualFold(host, "index.docker.io") ||
		strings.EqualFold(host, "registry-1.docker.io")
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

// ECRRegistry recognises an Amazon ECR private registry host,
// "<12-digit account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]", and
// also the dual-stack form "<account>.dkr-ecr[-fips].<region>.on.aws".
// It returns the account and the region (lowercased). host must not carry
// a port. Matching is case-insensitive. Public ECR (public.ecr.aws) is not
// a private registry and returns ok false.
func ECRRegistry(host string) (account, region string, ok bool) {
	account, rest, _ := strings.Cut(host, ".")
	if len(account) != 12 || strings.Trim(account, "0123456789") != "" {
		return "", "", false
	}
	var svc, svc2 string
	svc, rest, _ = strings.Cut(rest, ".")
	dualStack := false
	switch {
	case strings.EqualFold(svc, "dkr-ecr"), strings.EqualFold(svc, "dkr-ecr-fips"):
		dualStack = true
	case strings.EqualFold(svc, "dkr"):
		svc2, rest, _ = strings.Cut(rest, ".")
		if !strings.EqualFold(svc2, "ecr") && !strings.EqualFold(svc2, "ecr-fips") {
			return "", "", false
		}
	default:
		return "", "", false
	}
	region, rest, _ = strings.Cut(rest, ".")
	region = strings.ToLower(region)
	if !isAWSRegion(region) {
		return "", "", false
	}
	if dualStack {
		ok = strings.EqualFold(rest, "on.aws")
	} else {
		ok = strings.EqualFold(rest, "amazonaws.com") || strings.EqualFold(rest, "amazonaws.com.cn")
	}
	if !ok {
		return "", "", false
	}
	return account, region, true
}

// isAWSRegion reports whether r looks like an AWS region code: two
// letters, one or more letter words and a number, joined by '-'
// ("us-west-2", "us-gov-west-1", "cn-north-1").
func isAWSRegion(r string) bool {
	parts := 0
	for rest := r; ; {
		var p string
		var more bool
		p, rest, more = strings.Cut(rest, "-")
		parts++
		switch {
		case p == "":
			return false
		case parts == 1:
			if len(p) != 2 || strings.Trim(p, "abcdefghijklmnopqrstuvwxyz") != "" {
				return false
			}
		case !more:
			return parts >= 3 && strings.Trim(p, "0123456789") == ""
		default:
			if strings.Trim(p, "abcdefghijklmnopqrstuvwxyz") != "" {
				return false
			}
		}
		if !more {
			return false
		}
	}
}
