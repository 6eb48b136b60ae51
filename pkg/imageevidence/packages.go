package imageevidence

import (
	"strings"
	"unicode/utf8"

	"github.com/tokenguard/tokenguard/pkg/apis/tokenguard/v1alpha1"
	"github.com/tokenguard/tokenguard/pkg/policy"
)

// catalogued returns the packages cat matches, in order. It returns pkgs
// itself when all match (the caller does not modify it).
func catalogued(pkgs []policy.Package, cat *policy.Catalog) []policy.Package {
	out, _ := keep(pkgs, func(p *policy.Package) bool { return cat.MatchPackage(p) != nil })
	return out
}

// fitting returns the packages whose identity and version fit the caps,
// and whether any did not: those cannot be cut (a cut name matches no rule,
// a cut version compares as something else).
func fitting(pkgs []policy.Package) ([]policy.Package, bool) {
	return keep(pkgs, func(p *policy.Package) bool {
		return len(p.Type) <= v1alpha1.MaxTypeLength && len(p.Namespace) <= v1alpha1.MaxNameLength &&
			len(p.Name) <= v1alpha1.MaxNameLength && len(p.Version) <= v1alpha1.MaxVersionLength
	})
}

// keep returns the packages ok accepts, in order, and whether it refused
// any; pkgs itself (not a copy) when it accepts all.
func keep(pkgs []policy.Package, ok func(*policy.Package) bool) ([]policy.Package, bool) {
	var out []policy.Package
	for i := range pkgs {
		if !ok(&pkgs[i]) {
			if out == nil {
				out = append(make([]policy.Package, 0, len(pkgs)), pkgs[:i]...)
			}
			continue
		}
		if out != nil {
			out = append(out, pkgs[i])
		}
	}
	if out == nil {
		return pkgs, false
	}
	return out, true
}

// capPackages returns at most limit of pkgs, in their order, and how many
// it left out. Evaluation keeps, for each rule, the package with the worst
// verdict, the first one on ties (and the first one when the rule does not
// apply to the container); so it leaves out, first, exact duplicates of an
// earlier package (same identity, version and platform), then packages that
// are neither the first package of one of their rules nor its first with
// the worst verdict. Findings change only when more than limit packages
// decide them.
func capPackages(pkgs []policy.Package, cat *policy.Catalog, limit int) ([]policy.Package, int) {
	if len(pkgs) <= limit {
		return pkgs, 0
	}
	type ident struct{ typ, ns, name, version, platform string }
	seen := make(map[ident]bool, len(pkgs))
	uniq := make([]policy.Package, 0, len(pkgs))
	for _, p := range pkgs {
		k := ident{p.Type, p.Namespace, p.Name, p.Version, p.Platform}
		if !seen[k] {
			seen[k] = true
			uniq = append(uniq, p)
		}
	}
	if len(uniq) <= limit {
		return uniq, len(pkgs) - len(uniq)
	}

	// The verdict of each package under each of its rules, from the policy
	// itself: a container with a token and both AWS mechanisms, so that
	// every rule applies.
	pod := &policy.PodSpec{
		Containers: []policy.Container{{Name: "c", Image: "image"}},
		AWS:        policy.AWSContext{Mechanisms: policy.AWSIRSA | policy.AWSPodIdentity},
	}
	type best struct{ first, worst, rank int }
	rules := make(map[string]*best)
	ev := &policy.Evidence{Packages: make([]policy.Package, 1)}
	for i := range uniq {
		ev.Packages[0] = uniq[i]
		for _, f := range cat.Evaluate(pod, []*policy.Evidence{ev}, policy.Options{}) {
			if f.Component == policy.ComponentNoSDKEvidence {
				continue
			}
			rank := f.Verdict.Rank()
			if b := rules[f.Component]; b == nil {
				rules[f.Component] = &best{first: i, worst: i, rank: rank}
			} else if rank > b.rank {
				b.worst, b.rank = i, rank
			}
		}
	}
	keep := make([]bool, len(uniq))
	n := 0
	for _, b := range rules {
		for _, i := range [...]int{b.first, b.worst} {
			if !keep[i] {
				keep[i] = true
				n++
			}
		}
	}
	// Fill the room left with the others, in order.
	for i := 0; i < len(uniq) && n < limit; i++ {
		if !keep[i] {
			keep[i] = true
			n++
		}
	}
	out := make([]policy.Package, 0, limit)
	for i := range uniq {
		if keep[i] && len(out) < limit {
			out = append(out, uniq[i])
		}
	}
	return out, len(pkgs) - len(out)
}

// PURL returns p's package URL, "pkg:type/namespace/name@version", its
// namespace segments, name and version percent-encoded (an npm scope's '@'
// is "%40", as the purl specification asks).
func PURL(p *policy.Package) string {
	var b strings.Builder
	b.WriteString("pkg:")
	b.WriteString(strings.ToLower(p.Type))
	b.WriteByte('/')
	for _, seg := range strings.Split(strings.Trim(p.Namespace, "/"), "/") {
		if seg != "" {
			escape(&b, seg)
			b.WriteByte('/')
		}
	}
	escape(&b, p.Name)
	if p.Version != "" {
		b.WriteByte('@')
		escape(&b, p.Version)
	}
	return b.String()
}

// escape writes s percent-encoded: all but ASCII letters, digits and
// ".-_~".
func escape(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
}

// cut returns s if it has at most n bytes, else its longest prefix (whole
// UTF-8 characters) that fits with "…" after it (without, when n is too
// small for one).
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	ell := "…"
	if n < len(ell) {
		ell = ""
	}
	i := max(n-len(ell), 0)
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + ell
}
