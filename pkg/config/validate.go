package config

import (
	"net"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/policy/scheme"
)

// Bounds checked by Validate.
const (
	// MaxRegistryTimeout is the webhook's own timeout: registry lookups
	// must end before the API server gives up on the webhook.
	MaxRegistryTimeout       = 10 * time.Second
	MaxCacheEntries          = 10_000_000
	MaxCacheBytes      int64 = 64 << 30
	MaxSBOMBytes       int64 = 1 << 30
)

// serviceAccountPrefix is the username prefix of service accounts.
const serviceAccountPrefix = "system:serviceaccount:"

// Validate checks a defaulted configuration and returns every problem with
// its field path ("catalog.minimums[coredns]", "exemptions.images[2]").
func Validate(c *Configuration) field.ErrorList {
	var errs field.ErrorList
	if c.APIVersion != APIVersion {
		errs = append(errs, field.NotSupported(field.NewPath("apiVersion"), c.APIVersion, []string{APIVersion}))
	}
	if c.Kind != Kind {
		errs = append(errs, field.NotSupported(field.NewPath("kind"), c.Kind, []string{Kind}))
	}
	switch c.Unknown {
	case UnknownAllow, UnknownWarn, UnknownDeny:
	default:
		errs = append(errs, field.NotSupported(field.NewPath("unknown"), c.Unknown, UnknownActions))
	}
	if v := c.ControlPlaneVersion; v != "" {
		if _, err := policy.ParseKubeVersion(v); err != nil {
			errs = append(errs, field.Invalid(field.NewPath("controlPlaneVersion"), v, "a Kubernetes version such as v1.30, or empty to discover it"))
		}
	}
	ruleErrs, ids := validateCatalog(&c.CatalogConfig, field.NewPath("catalog"))
	errs = append(errs, ruleErrs...)
	errs = append(errs, validateExemptions(&c.Exemptions, field.NewPath("exemptions"), ids)...)
	errs = append(errs, validateRegistry(&c.Registry, field.NewPath("registry"))...)
	return errs
}

// validateCatalog checks the catalog overrides and returns the ids of the
// merged catalog (nil when the default catalog cannot be read).
func validateCatalog(cc *CatalogConfig, p *field.Path) (field.ErrorList, map[string]bool) {
	errs := policy.ValidateRules(cc.Rules, p.Child("rules"))
	def, err := defaultDocument()
	if err != nil {
		return append(errs, field.InternalError(p, err)), nil
	}
	rules := make(map[string]*policy.RuleSpec, len(def.Rules)+len(cc.Rules))
	for i := range def.Rules {
		rules[def.Rules[i].ID] = &def.Rules[i]
	}
	for i := range cc.Rules {
		if id := cc.Rules[i].ID; id != "" {
			rules[id] = &cc.Rules[i]
		}
	}
	for _, id := range sortedKeys(cc.Minimums) {
		mp, min := p.Child("minimums").Key(id), cc.Minimums[id]
		r, ok := rules[id]
		switch {
		case !ok:
			errs = append(errs, field.Invalid(mp, id, "no rule has this id in the default catalog or in catalog.rules"))
		case strings.TrimSpace(min) == "":
			errs = append(errs, field.Required(mp, "the first version that refreshes tokens, in the rule's scheme ("+r.Scheme+")"))
		default:
			if detail := checkMinimum(r, min); detail != "" {
				errs = append(errs, field.Invalid(mp, min, detail))
			}
		}
	}
	seen := make(map[string]int, len(cc.Disable))
	for i, id := range cc.Disable {
		dp := p.Child("disable").Index(i)
		if _, ok := rules[id]; !ok {
			errs = append(errs, field.Invalid(dp, id, "no rule has this id in the default catalog or in catalog.rules"))
		}
		errs = appendDuplicate(errs, seen, id, i, dp)
	}
	ids := make(map[string]bool, len(rules))
	for id := range rules {
		ids[id] = true
	}
	// A backstop: what passed above must make a valid catalog.
	if len(errs) == 0 {
		doc, err := mergeCatalog(cc)
		if err != nil {
			return append(errs, field.InternalError(p, err)), ids
		}
		if derrs := policy.ValidateCatalogDocument(&doc); len(derrs) > 0 {
			errs = append(errs, field.Invalid(p, "", "the merged catalog is invalid: "+derrs.ToAggregate().Error()))
		}
	}
	return errs, ids
}

// checkMinimum returns why min is not a minimum of r's scheme, or "". A rule
// with an unknown scheme has its own error.
func checkMinimum(r *policy.RuleSpec, min string) string {
	if r.Scheme == policy.SchemeKubeSkew {
		if min != policy.MinimumControlPlane {
			return "the kube-skew scheme of rule " + strconv.Quote(r.ID) + " takes the minimum \"" + policy.MinimumControlPlane + "\""
		}
		return ""
	}
	s, ok := scheme.Lookup(r.Scheme)
	if !ok {
		return ""
	}
	if _, err := s.ParseMinimum(min); err != nil {
		return "not a " + r.Scheme + " minimum for rule " + strconv.Quote(r.ID) + ": " + err.Error()
	}
	return ""
}

// appendDuplicate reports v at p when an earlier entry had it.
func appendDuplicate(errs field.ErrorList, seen map[string]int, v string, i int, p *field.Path) field.ErrorList {
	if _, dup := seen[v]; dup {
		return append(errs, field.Duplicate(p, v))
	}
	seen[v] = i
	return errs
}

// validateExemptions checks the exemption entries; ids, when not nil, are
// the catalog rule ids components may name.
func validateExemptions(e *Exemptions, p *field.Path, ids map[string]bool) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]int{}
	for i, ns := range e.Namespaces {
		ip := p.Child("namespaces").Index(i)
		if detail := checkName(ns, "namespace", validation.IsDNS1123Label); detail != "" {
			errs = append(errs, field.Invalid(ip, ns, detail))
		}
		errs = appendDuplicate(errs, seen, ns, i, ip)
	}
	clear(seen)
	for i, sa := range e.ServiceAccounts {
		ip := p.Child("serviceAccounts").Index(i)
		if _, _, detail := parseServiceAccount(sa); detail != "" {
			errs = append(errs, field.Invalid(ip, sa, detail))
			continue
		}
		// Both spellings of one account are one entry.
		ns, name, _ := parseServiceAccount(sa)
		if _, dup := seen[ns+":"+name]; dup {
			errs = append(errs, field.Duplicate(ip, sa))
		}
		seen[ns+":"+name] = i
	}
	clear(seen)
	for i, img := range e.Images {
		ip := p.Child("images").Index(i)
		if detail := checkImagePattern(img); detail != "" {
			errs = append(errs, field.Invalid(ip, img, detail))
		}
		errs = appendDuplicate(errs, seen, img, i, ip)
	}
	clear(seen)
	for i, id := range e.Components {
		ip := p.Child("components").Index(i)
		switch {
		case id == "":
			errs = append(errs, field.Required(ip, "a catalog rule id such as k8s.io/client-go"))
		case ids != nil && !ids[id] && id != policy.ComponentTokenExpiration && id != policy.ComponentLegacyTokenSecret:
			errs = append(errs, field.Invalid(ip, id, "no rule has this id in the default catalog or in catalog.rules (token findings are "+
				policy.ComponentTokenExpiration+" and "+policy.ComponentLegacyTokenSecret+")"))
		}
		errs = appendDuplicate(errs, seen, id, i, ip)
	}
	return errs
}

// checkName returns why s is neither a valid name (by isValid) nor a valid
// glob pattern, or "".
func checkName(s, what string, isValid func(string) []string) string {
	switch {
	case s == "":
		return "a " + what + " name or pattern"
	case isGlob(s):
		if err := checkGlob(s); err != nil {
			return err.Error()
		}
		return ""
	}
	if msgs := isValid(s); len(msgs) > 0 {
		return "not a valid " + what + " name: " + strings.Join(msgs, "; ")
	}
	return ""
}

// parseServiceAccount splits "ns:name" or "system:serviceaccount:ns:name";
// detail says what is wrong with it.
func parseServiceAccount(s string) (ns, name, detail string) {
	const want = `"namespace:name" or "system:serviceaccount:namespace:name" (either part may be a pattern such as *)`
	rest := strings.TrimPrefix(s, serviceAccountPrefix)
	ns, name, ok := strings.Cut(rest, ":")
	if !ok || strings.Contains(name, ":") {
		return "", "", want
	}
	if ns == "" || name == "" {
		return "", "", want
	}
	if d := checkName(ns, "namespace", validation.IsDNS1123Label); d != "" {
		return "", "", d
	}
	if d := checkName(name, "service account", validation.IsDNS1123Subdomain); d != "" {
		return "", "", d
	}
	return ns, name, ""
}

// checkImagePattern returns why s is not an image reference or pattern, or
// "".
func checkImagePattern(s string) string {
	switch {
	case s == "":
		return "an image reference or pattern such as registry.example.com/legacy/**"
	case strings.ContainsAny(s, " \t\r\n"):
		return "image references contain no spaces"
	case isGlob(s):
		if err := checkGlob(s); err != nil {
			return err.Error()
		}
	}
	return ""
}

func validateRegistry(r *RegistryConfig, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	tp := p.Child("timeout")
	if v, detail := r.Timeout.parseError(); detail != "" {
		errs = append(errs, field.Invalid(tp, v, detail))
	} else if r.Timeout.Duration <= 0 {
		errs = append(errs, field.Invalid(tp, r.Timeout.Duration.String(), "must be greater than 0"))
	} else if r.Timeout.Duration >= MaxRegistryTimeout {
		errs = append(errs, field.Invalid(tp, r.Timeout.Duration.String(), "must be less than "+MaxRegistryTimeout.String()+", the webhook's timeout"))
	}
	if n := r.CacheEntries; n <= 0 || n > MaxCacheEntries {
		errs = append(errs, field.Invalid(p.Child("cacheEntries"), n, "must be between 1 and "+strconv.Itoa(MaxCacheEntries)))
	}
	bp := p.Child("cacheBytes")
	if v, detail := r.CacheBytes.parseError(); detail != "" {
		errs = append(errs, field.Invalid(bp, v, detail))
	} else if n := r.CacheBytes.Bytes; n <= 0 || n > MaxCacheBytes {
		errs = append(errs, field.Invalid(bp, r.CacheBytes.String(), "must be between 1 and "+NewByteSize(MaxCacheBytes).String()+" bytes"))
	}
	sp := p.Child("maxSBOMBytes")
	if v, detail := r.MaxSBOMBytes.parseError(); detail != "" {
		errs = append(errs, field.Invalid(sp, v, detail))
	} else if n := r.MaxSBOMBytes.Bytes; n < 1<<10 || n > MaxSBOMBytes {
		errs = append(errs, field.Invalid(sp, r.MaxSBOMBytes.String(), "must be between 1Ki and "+NewByteSize(MaxSBOMBytes).String()+" bytes"))
	}
	errs = append(errs, validateHosts(r.InsecureRegistries, p.Child("insecureRegistries"))...)
	errs = append(errs, validateHosts(r.Registries, p.Child("registries"))...)
	errs = append(errs, validateLayers(&r.Layers, p.Child("layers"))...)
	return errs
}

// validateLayers checks registry.layers.
func validateLayers(l *LayersConfig, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch l.Mode {
	case LayersAuto, LayersAlways, LayersNever:
	default:
		errs = append(errs, field.NotSupported(p.Child("mode"), l.Mode, []string{LayersAuto, LayersAlways, LayersNever}))
	}
	if len(l.Platforms) == 0 {
		errs = append(errs, field.Required(p.Child("platforms"), "at least one platform to scan, e.g. linux/amd64"))
	}
	seen := map[string]int{}
	for i, pl := range l.Platforms {
		ip := p.Child("platforms").Index(i)
		if detail := checkPlatform(pl); detail != "" {
			errs = append(errs, field.Invalid(ip, pl, detail))
		}
		errs = appendDuplicate(errs, seen, pl, i, ip)
	}
	errs = append(errs, checkBytes(l.MaxCompressedBytes, p.Child("maxCompressedBytes"), 1<<20, 64<<30)...)
	errs = append(errs, checkBytes(l.MaxFileBytes, p.Child("maxFileBytes"), 1<<20, 1<<30)...)
	tp := p.Child("timeout")
	if v, detail := l.Timeout.parseError(); detail != "" {
		errs = append(errs, field.Invalid(tp, v, detail))
	} else if d := l.Timeout.Duration; d < time.Second || d > time.Hour {
		errs = append(errs, field.Invalid(tp, d.String(), "must be between 1s and 1h"))
	}
	if n := l.Concurrency; n < 1 || n > 64 {
		errs = append(errs, field.Invalid(p.Child("concurrency"), n, "must be between 1 and 64"))
	}
	if n := l.QueueSize; n < 1 || n > 100000 {
		errs = append(errs, field.Invalid(p.Child("queueSize"), n, "must be between 1 and 100000"))
	}
	return errs
}

// checkBytes checks a size field against [lo, hi].
func checkBytes(b ByteSize, p *field.Path, lo, hi int64) field.ErrorList {
	if v, detail := b.parseError(); detail != "" {
		return field.ErrorList{field.Invalid(p, v, detail)}
	}
	if b.Bytes < lo || b.Bytes > hi {
		return field.ErrorList{field.Invalid(p, b.String(), "must be between "+NewByteSize(lo).String()+" and "+NewByteSize(hi).String()+" bytes")}
	}
	return nil
}

// checkPlatform returns why s is not os/arch or os/arch/variant, or "".
func checkPlatform(s string) string {
	const want = "a platform as os/arch or os/arch/variant, e.g. linux/amd64 or linux/arm64/v8"
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 {
		return want
	}
	for _, part := range parts {
		if part == "" || strings.TrimLeft(strings.ToLower(part), "abcdefghijklmnopqrstuvwxyz0123456789_.-") != "" {
			return want
		}
	}
	return ""
}

// validateHosts checks a list of registry hosts: well-formed, no duplicates.
func validateHosts(hosts []string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]int{}
	for i, h := range hosts {
		ip := p.Index(i)
		if detail := checkRegistryHost(h); detail != "" {
			errs = append(errs, field.Invalid(ip, h, detail))
		}
		errs = appendDuplicate(errs, seen, strings.ToLower(h), i, ip)
	}
	return errs
}

// checkRegistryHost returns why s is not host[:port], or "". Host is a DNS
// name, an IPv4 address or a bracketed IPv6 address.
func checkRegistryHost(s string) string {
	const want = "host or host:port, without scheme or path (e.g. registry.local:5000)"
	if s == "" || strings.ContainsAny(s, "/ \t@") {
		return want
	}
	host, port := s, ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return want
		}
		host = s[1:end]
		switch rest := s[end+1:]; {
		case rest == "":
		case strings.HasPrefix(rest, ":"):
			port = rest[1:]
			if port == "" {
				return want
			}
		default:
			return want
		}
		if ip := net.ParseIP(host); ip == nil || ip.To4() != nil {
			return "a bracketed IPv6 address"
		}
	case strings.Count(s, ":") > 1:
		return "an IPv6 address must be bracketed: [::1]:5000"
	default:
		if h, pt, ok := strings.Cut(s, ":"); ok {
			host, port = h, pt
			if port == "" {
				return want
			}
		}
		if net.ParseIP(host) == nil {
			if msgs := validation.IsDNS1123Subdomain(strings.ToLower(host)); len(msgs) > 0 {
				return want + ": " + strings.Join(msgs, "; ")
			}
		}
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port[0] == '0' {
			return "the port must be a number from 1 to 65535"
		}
	}
	return ""
}
