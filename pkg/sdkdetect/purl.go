package sdkdetect

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidPURL is wrapped by every error ParsePURL returns.
var ErrInvalidPURL = errors.New("invalid package URL")

// PURL is a parsed package URL
// (https://github.com/package-url/purl-spec):
// pkg:type/namespace/name@version?qualifiers#subpath.
type PURL struct {
	// Type is the package type, lowercased ("golang", "npm", "pypi").
	Type string
	// Namespace is the percent-decoded namespace, its segments joined by
	// '/' ("k8s.io", "@kubernetes", "io.kubernetes"); empty when absent.
	Namespace string
	// Name is the percent-decoded name ("client-go", "client-node").
	Name string
	// Version is the percent-decoded version ("v11.0.0+incompatible");
	// empty when absent.
	Version string
	// Subpath is the percent-decoded subpath without leading or trailing
	// '/', its empty, "." and ".." segments removed; empty when absent.
	Subpath string
	// Qualifiers is the raw, still-encoded text between '?' and '#'
	// ("type=jar&classifier=sources"); empty when absent.
	Qualifiers string
}

// ParsePURL parses a package URL following the purl specification's
// parsing rules, with these choices:
//
//   - The scheme "pkg:" is matched case-insensitively, and slashes after
//     it are ignored ("pkg://npm/x" is "pkg:npm/x").
//   - The subpath starts at the first '#', the qualifiers at the first '?'
//     before it; both characters must be percent-encoded elsewhere.
//   - The version starts at the last '@', unless that '@' begins a
//     namespace segment: an npm scope may be written "%40kubernetes" or
//     "@kubernetes", so
//     "pkg:npm/@kubernetes/client-node@0.10.3" has namespace
//     "@kubernetes" and version "0.10.3". An empty version ("name@") is
//     treated as no version.
//   - Empty namespace segments are dropped. A '/' percent-encoded in the
//     namespace or the name separates segments like a plain one: tools
//     building purls with packageurl-go from a whole path as the name
//     write "pkg:golang/k8s.io%2Fclient-go@v0.29.3" and
//     "pkg:npm/%40kubernetes%2Fclient-node@0.18.1", which are
//     k8s.io/client-go and @kubernetes/client-node.
//   - The spec's type-specific canonical forms are applied: namespace and
//     name lowercased for alpm, apk, bitbucket, composer, deb, github and
//     hex; the pypi name lowercased with '_' replaced by '-'. Other types
//     keep their case (golang, maven and gem names are case-sensitive, and
//     nuget's are case-preserving); use Key to match across case.
//
// Every error wraps ErrInvalidPURL and says what is wrong.
func ParsePURL(s string) (PURL, error) {
	if s == "" {
		return PURL{}, purlError(s, "empty package URL")
	}
	var p PURL
	rest := s
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		var err error
		if p.Subpath, err = decodeSubpath(rest[i+1:]); err != nil {
			return PURL{}, purlError(s, "subpath: "+err.Error())
		}
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		p.Qualifiers = rest[i+1:]
		rest = rest[:i]
	}

	scheme, rest, ok := strings.Cut(rest, ":")
	if !ok {
		return PURL{}, purlError(s, `missing scheme "pkg:"`)
	}
	if !strings.EqualFold(scheme, "pkg") {
		return PURL{}, purlError(s, fmt.Sprintf(`scheme %q is not "pkg"`, scheme))
	}
	rest = strings.Trim(rest, "/")

	typ, rest, ok := strings.Cut(rest, "/")
	if detail := checkPURLType(typ); detail != "" {
		return PURL{}, purlError(s, detail)
	}
	if !ok || rest == "" {
		return PURL{}, purlError(s, "missing name")
	}
	p.Type = strings.ToLower(typ)

	if at := strings.LastIndexByte(rest, '@'); at >= 0 && !isScopeAt(rest, at) {
		var err error
		if p.Version, err = percentDecode(rest[at+1:]); err != nil {
			return PURL{}, purlError(s, "version: "+err.Error())
		}
		rest = rest[:at]
	}

	name, ns := rest, ""
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		ns, name = rest[:i], rest[i+1:]
	}
	if name == "" {
		return PURL{}, purlError(s, "missing name")
	}
	var err error
	if p.Name, err = percentDecode(name); err != nil {
		return PURL{}, purlError(s, "name: "+err.Error())
	}
	if p.Namespace, err = decodeNamespace(ns); err != nil {
		return PURL{}, purlError(s, "namespace: "+err.Error())
	}
	if strings.IndexByte(p.Name, '/') >= 0 {
		// An encoded '/' in the name: its path moves to the namespace.
		path := p.Name
		if p.Namespace != "" {
			path = p.Namespace + "/" + path
		}
		path = cleanPath(path)
		p.Namespace, p.Name = "", path
		if i := strings.LastIndexByte(path, '/'); i >= 0 {
			p.Namespace, p.Name = path[:i], path[i+1:]
		}
		if p.Name == "" {
			return PURL{}, purlError(s, "missing name")
		}
	}

	switch p.Type {
	case "alpm", "apk", "bitbucket", "composer", "deb", "github", "hex":
		p.Namespace = strings.ToLower(p.Namespace)
		p.Name = strings.ToLower(p.Name)
	case "pypi":
		p.Name = strings.ReplaceAll(strings.ToLower(p.Name), "_", "-")
	}
	return p, nil
}

// isScopeAt reports whether the '@' at rest[at] starts an npm-style scope
// segment ("@kubernetes/…") rather than the version: it begins a segment
// and is not in the last one.
func isScopeAt(rest string, at int) bool {
	return (at == 0 || rest[at-1] == '/') && strings.IndexByte(rest[at:], '/') >= 0
}

// Key returns "type/namespace/name" (or "type/name" without a namespace)
// normalised for matching package identities: everything is lowercased,
// for every type, and pypi names are normalised as PEP 503 does (runs of
// '-', '_' and '.' become one '-'). Folding case is wrong in general for
// case-sensitive types such as golang and maven, but harmless for matching
// a catalog of SDK identities, and it lets "KubernetesClient" match
// "kubernetesclient" on nuget. The npm scope is always spelled with '@'.
func (p PURL) Key() string {
	typ := strings.ToLower(p.Type)
	name := strings.ToLower(p.Name)
	if typ == "pypi" {
		name = pep503(name)
	}
	if p.Namespace == "" {
		return typ + "/" + name
	}
	return typ + "/" + strings.ToLower(p.Namespace) + "/" + name
}

// pep503 replaces runs of '-', '_' and '.' in a lowercase name by one '-'.
func pep503(name string) string {
	if !strings.ContainsAny(name, "_.") && !strings.Contains(name, "--") {
		return name
	}
	var b strings.Builder
	b.Grow(len(name))
	sep := false
	for i := 0; i < len(name); i++ {
		switch c := name[i]; c {
		case '-', '_', '.':
			sep = true
		default:
			if sep {
				b.WriteByte('-')
				sep = false
			}
			b.WriteByte(c)
		}
	}
	if sep {
		b.WriteByte('-')
	}
	return b.String()
}

func purlError(s, detail string) error {
	return fmt.Errorf("%w %q: %s", ErrInvalidPURL, s, detail)
}

// checkPURLType returns "" when t is a valid type: ASCII letters, digits,
// '.', '+' and '-', not starting with a digit.
func checkPURLType(t string) string {
	if t == "" {
		return "missing type"
	}
	if '0' <= t[0] && t[0] <= '9' {
		return fmt.Sprintf("type %q must not start with a digit", t)
	}
	for i := 0; i < len(t); i++ {
		if b := t[i]; !isAlnum(b) && b != '.' && b != '+' && b != '-' {
			return fmt.Sprintf("type %q has invalid character %q", t, b)
		}
	}
	return ""
}

// decodeNamespace percent-decodes ns and drops its empty segments (an
// encoded '/' separates segments too).
func decodeNamespace(ns string) (string, error) {
	if ns == "" {
		return "", nil
	}
	dec, err := percentDecode(ns)
	if err != nil {
		return "", err
	}
	return cleanPath(dec), nil
}

// cleanPath drops the empty segments of a '/'-separated path. It returns
// path itself when there are none.
func cleanPath(path string) string {
	if !strings.Contains(path, "//") && path != "" && path[0] != '/' && path[len(path)-1] != '/' {
		return path
	}
	var b strings.Builder
	for rest := path; rest != ""; {
		var seg string
		seg, rest, _ = strings.Cut(rest, "/")
		if seg == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('/')
		}
		b.WriteString(seg)
	}
	return b.String()
}

// decodeSubpath trims '/', drops empty, "." and ".." segments and
// percent-decodes the rest.
func decodeSubpath(sp string) (string, error) {
	sp = strings.Trim(sp, "/")
	if sp == "" {
		return "", nil
	}
	var b strings.Builder
	for rest := sp; rest != ""; {
		var seg string
		seg, rest, _ = strings.Cut(rest, "/")
		if seg == "" {
			continue
		}
		dec, err := percentDecode(seg)
		if err != nil {
			return "", err
		}
		if dec == "." || dec == ".." {
			continue
		}
		if strings.IndexByte(dec, '/') >= 0 {
			return "", fmt.Errorf("segment %q decodes to a string holding '/'", seg)
		}
		if b.Len() > 0 {
			b.WriteByte('/')
		}
		b.WriteString(dec)
	}
	return b.String(), nil
}

// percentDecode decodes %XX escapes; '+' stays '+'. It returns s itself
// when s holds no '%'.
func percentDecode(s string) (string, error) {
	n := strings.Count(s, "%")
	if n == 0 {
		return s, nil
	}
	buf := make([]byte, 0, max(len(s)-2*n, 0))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			buf = append(buf, s[i])
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			end := min(i+3, len(s))
			return "", fmt.Errorf("bad percent-encoding %q", s[i:end])
		}
		buf = append(buf, unhex(s[i+1])<<4|unhex(s[i+2]))
		i += 2
	}
	return string(buf), nil
}

func isHex(b byte) bool { return isLowerHex(b) || 'A' <= b && b <= 'F' }

func unhex(b byte) byte {
	switch {
	case b <= '9':
		return b - '0'
	case b <= 'F':
		return b - 'A' + 10
	default:
		return b - 'a' + 10
	}
}
