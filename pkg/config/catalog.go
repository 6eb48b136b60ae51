package config

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// ConfiguredVersionSuffix is appended to the catalog version when the
// configuration changes the default catalog, with a hash of the resulting
// rules ("2026.11.1+config.3f2a9c1d"): two processes share evidence
// (ImageEvidence) only when their catalogs are the same, and configured
// catalogs differ by what they configure.
const ConfiguredVersionSuffix = "+config"

// defaultDocument decodes the embedded catalog once.
var defaultDocument = sync.OnceValues(func() (policy.CatalogDocument, error) {
	var doc policy.CatalogDocument
	if err := policy.DecodeStrict(policy.DefaultCatalogYAML(), &doc); err != nil {
		return doc, fmt.Errorf("embedded catalog: %w", err)
	}
	return doc, nil
})

// CatalogDocument returns the embedded default catalog with the overrides of
// c.Catalog applied in order: rules replace the default rule with the same
// id (in place) or are added after the default rules; minimums set the
// minimum of a rule; disable sets Disabled. When a minimum changes, the
// rule's fix text follows it and its source says the configuration set it.
// The result shares no memory with c or with the embedded catalog.
func (c *Configuration) CatalogDocument() (policy.CatalogDocument, error) {
	return mergeCatalog(&c.CatalogConfig)
}

// Catalog validates and compiles the catalog of CatalogDocument.
func (c *Configuration) Catalog() (*policy.Catalog, error) {
	doc, err := c.CatalogDocument()
	if err != nil {
		return nil, err
	}
	if errs := policy.ValidateCatalogDocument(&doc); len(errs) > 0 {
		return nil, fmt.Errorf("catalog: %w", errs.ToAggregate())
	}
	return policy.Compile(doc)
}

// rulesHash is a short hash of rules: the first 8 hex digits of the
// SHA-256 of their JSON.
func rulesHash(rules []policy.RuleSpec) string {
	h := sha256.New()
	if err := json.NewEncoder(h).Encode(rules); err != nil {
		// RuleSpec holds strings, numbers and slices of them: never.
		panic("config: encoding catalog rules: " + err.Error())
	}
	return hex.EncodeToString(h.Sum(nil)[:4])
}

func mergeCatalog(cc *CatalogConfig) (policy.CatalogDocument, error) {
	def, err := defaultDocument()
	if err != nil {
		return policy.CatalogDocument{}, err
	}
	doc := def
	doc.Rules = make([]policy.RuleSpec, 0, len(def.Rules)+len(cc.Rules))
	index := make(map[string]int, len(def.Rules)+len(cc.Rules))
	for i := range def.Rules {
		index[def.Rules[i].ID] = len(doc.Rules)
		doc.Rules = append(doc.Rules, cloneRule(&def.Rules[i]))
	}
	for i := range cc.Rules {
		r := cloneRule(&cc.Rules[i])
		if j, ok := index[r.ID]; ok {
			doc.Rules[j] = r
			continue
		}
		index[r.ID] = len(doc.Rules)
		doc.Rules = append(doc.Rules, r)
	}
	var errs []error
	for _, id := range sortedKeys(cc.Minimums) {
		j, ok := index[id]
		if !ok {
			errs = append(errs, fmt.Errorf("catalog.minimums[%s]: no rule has this id", id))
			continue
		}
		setMinimum(&doc.Rules[j], cc.Minimums[id])
	}
	for i, id := range cc.Disable {
		j, ok := index[id]
		if !ok {
			errs = append(errs, fmt.Errorf("catalog.disable[%d]: no rule has the id %q", i, id))
			continue
		}
		doc.Rules[j].Disabled = true
	}
	if len(errs) > 0 {
		return policy.CatalogDocument{}, errors.Join(errs...)
	}
	if len(cc.Rules) > 0 || len(cc.Minimums) > 0 || len(cc.Disable) > 0 {
		doc.Version += ConfiguredVersionSuffix + "." + rulesHash(doc.Rules)
	}
	return doc, nil
}

// setMinimum changes a rule's minimum, and its fix and source with it.
func setMinimum(r *policy.RuleSpec, min string) {
	old := r.Minimum
	if min == old {
		return
	}
	r.Minimum = min
	if fix, ok := replaceVersion(r.Fix, old, min); ok {
		r.Fix = fix
	} else {
		verb, what := "upgrade", r.Name
		if r.Kind == policy.KindAddon {
			verb = "update"
		}
		if what == "" {
			what = r.ID
		}
		r.Fix = verb + " " + what + " to " + min + " or later"
	}
	r.Source = "tokenguard configuration catalog.minimums[" + r.ID + "] (default " + old + ": " + r.Source + ")"
}

// replaceVersion replaces each whole-version occurrence of old in s (not
// part of a longer version: "1.8.4" in "v1.8.4 or later", not in "11.8.4")
// with new. ok is false when there is none.
func replaceVersion(s, old, new string) (string, bool) {
	if old == "" {
		return s, false
	}
	var b strings.Builder
	found := false
	i := 0
	for {
		j := strings.Index(s[i:], old)
		if j < 0 {
			break
		}
		j += i
		end := j + len(old)
		b.WriteString(s[i:j])
		if wholeVersion(s, j, end) {
			b.WriteString(new)
			found = true
		} else {
			b.WriteString(old)
		}
		i = end
	}
	b.WriteString(s[i:])
	return b.String(), found
}

// wholeVersion reports whether s[j:end] is not part of a longer version. A
// 'v' before it is a prefix; a '.' after it ends a sentence unless a version
// byte follows.
func wholeVersion(s string, j, end int) bool {
	if j > 0 && versionByte(s[j-1]) {
		// "v1.8.4": a lone v before the version is its prefix.
		if (s[j-1] != 'v' && s[j-1] != 'V') || (j > 1 && versionByte(s[j-2])) {
			return false
		}
	}
	if end == len(s) || !versionByte(s[end]) {
		return true
	}
	return s[end] == '.' && (end+1 == len(s) || !versionByte(s[end+1]))
}

// versionByte reports whether c continues a version ("1.8.4-eksbuild.1").
func versionByte(c byte) bool {
	return c == '.' || c == '-' || c == '+' || c == '_' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func cloneRule(r *policy.RuleSpec) policy.RuleSpec {
	c := *r
	c.Match.PURLs = slices.Clone(r.Match.PURLs)
	c.Match.Images = slices.Clone(r.Match.Images)
	return c
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
