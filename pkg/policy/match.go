package policy

import "strings"

// purlKey is a normalised purl identity.
type purlKey struct{ typ, namespace, name string }

// normalizeNamespace lowercases a purl namespace and spells an npm scope
// with "@" whether it arrived as "@" or "%40".
func normalizeNamespace(ns string) string {
	ns = strings.Trim(ns, "/")
	if strings.HasPrefix(ns, "%40") {
		ns = "@" + ns[3:]
	}
	return strings.ToLower(ns)
}

// normalizeName lowercases a purl name; PyPI names also fold "_" and "." to
// "-" (PEP 503). Neither allocates when the name is already normal.
func normalizeName(typ, name string) string {
	name = strings.ToLower(name)
	if typ == "pypi" && strings.ContainsAny(name, "_.") {
		name = strings.NewReplacer("_", "-", ".", "-").Replace(name)
	}
	return name
}

// MatchPackage returns the first enabled rule (sdk or aws-sdk) for a
// package, or nil.
func (c *Catalog) MatchPackage(p *Package) *Rule {
	var buf [4]*Rule
	if rs := c.MatchPackages(p, buf[:0]); len(rs) > 0 {
		return rs[0]
	}
	return nil
}

// MatchPackages appends the enabled rules for a package to dst, in catalog
// order of their exact matches, then prefix matches: a Kubernetes client
// has one rule, an AWS SDK package one per credential mechanism. Exact
// matches win: prefix rules are consulted only when none matched.
func (c *Catalog) MatchPackages(p *Package, dst []*Rule) []*Rule {
	typ := strings.ToLower(p.Type)
	k := purlKey{typ, normalizeNamespace(p.Namespace), normalizeName(typ, p.Name)}
	if rs := c.sdkExact[k]; len(rs) > 0 {
		return append(dst, rs...)
	}
	for i := range c.sdkPrefix {
		m := &c.sdkPrefix[i]
		if m.typ == k.typ && m.namespace == k.namespace && strings.HasPrefix(k.name, m.prefix) {
			dst = append(dst, m.rule)
		}
	}
	return dst
}

// MatchImage returns the enabled add-on rule whose image pattern matches the
// repository path of ref, on any registry, or nil. A pattern matches when the
// path equals it or ends with "/"+pattern.
func (c *Catalog) MatchImage(ref *ImageRef) *Rule {
	repo := ref.Repository
	last := repo[strings.LastIndexByte(repo, '/')+1:]
	for _, p := range c.addonByLast[last] {
		if pathHasSuffix(repo, p.pattern) {
			return p.rule
		}
	}
	if repo != strings.ToLower(repo) {
		lower := strings.ToLower(repo)
		return c.MatchImage(&ImageRef{Repository: lower})
	}
	return nil
}

// pathHasSuffix reports whether path equals suffix or ends with "/"+suffix.
func pathHasSuffix(path, suffix string) bool {
	if !strings.HasSuffix(path, suffix) {
		return false
	}
	n := len(path) - len(suffix)
	return n == 0 || path[n-1] == '/'
}

// KeepPURL reports whether a package identity is catalogued: SBOM parsers
// keep only those.
func (c *Catalog) KeepPURL(typ, namespace, name string) bool {
	return c.MatchPackage(&Package{Type: typ, Namespace: namespace, Name: name}) != nil
}
