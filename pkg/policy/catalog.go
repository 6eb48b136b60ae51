package policy

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tokenguard/tokenguard/pkg/policy/scheme"
)

// CatalogAPIVersion and CatalogKind identify a catalog document.
const (
	CatalogAPIVersion = "tokenguard.io/v1alpha1"
	CatalogKind       = "Catalog"
)

// Rule kinds.
const (
	KindSDK   = "sdk"
	KindAddon = "addon"
	// KindAWSSDK rules are AWS SDK minimums for a credential mechanism
	// (IRSA, EKS Pod Identity), matched by purl like sdk rules; they apply
	// only to containers that use their mechanism.
	KindAWSSDK = "aws-sdk"
	// KindToken marks findings about the pod's token volumes themselves.
	KindToken = "token"
)

// Credential mechanisms an aws-sdk rule applies to (RuleSpec.Credentials).
const (
	CredentialsIRSA        = "irsa"
	CredentialsPodIdentity = "pod-identity"
)

// credentialMechanism maps RuleSpec.Credentials to its AWSMechanism.
func credentialMechanism(s string) AWSMechanism {
	switch s {
	case CredentialsIRSA:
		return AWSIRSA
	case CredentialsPodIdentity:
		return AWSPodIdentity
	}
	return 0
}

// SchemeKubeSkew is the pseudo-scheme of the kube-proxy rule: its minimum is
// the control plane's version under the Kubernetes version-skew policy.
const SchemeKubeSkew = "kube-skew"

// MinimumControlPlane is the only minimum the kube-skew scheme accepts.
const MinimumControlPlane = "control-plane"

//go:embed catalog.yaml
var defaultCatalogYAML []byte

// DefaultCatalogYAML returns the embedded default catalog document.
func DefaultCatalogYAML() []byte { return append([]byte(nil), defaultCatalogYAML...) }

// CatalogDocument is the file format of a catalog.
type CatalogDocument struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Version identifies this revision of the catalog data.
	Version string     `json:"version"`
	Rules   []RuleSpec `json:"rules"`
}

// RuleSpec is one catalog row as written.
type RuleSpec struct {
	// ID names the component in findings ("k8s.io/client-go", "coredns").
	ID string `json:"id"`
	// Kind is "sdk" (a Kubernetes client, matched by purl), "aws-sdk" (an
	// AWS SDK's credential code, matched by purl, for one credential
	// mechanism) or "addon" (matched by image path).
	Kind string `json:"kind"`
	// Name is a human-readable name.
	Name  string    `json:"name,omitempty"`
	Match MatchSpec `json:"match"`
	// Minimum is the first version that refreshes tokens, in Scheme's syntax.
	Minimum string `json:"minimum"`
	// Scheme names the version ordering (see package scheme, plus kube-skew).
	Scheme string `json:"scheme"`
	// Fix says what to do, as a clause ("upgrade ... to ... or later").
	Fix string `json:"fix,omitempty"`
	// Source cites where the minimum comes from.
	Source string `json:"source"`
	// Credentials is the mechanism an aws-sdk rule is about: "irsa" or
	// "pod-identity". The rule applies only to containers that use it.
	Credentials string `json:"credentials,omitempty"`
	// Advisory, when set, says why the minimum is uncertain (sources
	// disagree): the rule's too-old findings warn and never deny. With
	// AdvisoryMinimum, only versions between Minimum and AdvisoryMinimum
	// are uncertain; below Minimum is too-old as usual.
	Advisory string `json:"advisory,omitempty"`
	// AdvisoryMinimum is a higher minimum that a source gives and another
	// contradicts (needs Advisory): versions from Minimum up to it are
	// too-old with an advisory finding, which warns and never denies.
	AdvisoryMinimum string `json:"advisoryMinimum,omitempty"`
	// Disabled turns the rule off (used by configuration overrides).
	Disabled bool `json:"disabled,omitempty"`
}

// MatchSpec says how a rule recognises its component.
type MatchSpec struct {
	PURLs  []PURLMatch `json:"purls,omitempty"`
	Images []string    `json:"images,omitempty"`
}

// PURLMatch matches packages by purl type, namespace and name. Name may end
// in "*" to match a prefix. Comparison is case-insensitive.
type PURLMatch struct {
	Type      string `json:"type"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// Catalog is a validated, compiled set of rules, ready for Evaluate. It is
// immutable and safe for concurrent use.
type Catalog struct {
	version string
	rules   []*Rule
	// sdkExact maps a normalised purl identity to its rules (a Kubernetes
	// client rule, or an AWS SDK's rules, one per mechanism).
	sdkExact map[purlKey][]*Rule
	// sdkPrefix holds rules matched by a name prefix.
	sdkPrefix []prefixMatch
	// addonByLast maps the last path segment of an image pattern to the
	// rules and patterns that end with it.
	addonByLast map[string][]addonPattern
}

// Rule is a compiled catalog rule.
type Rule struct {
	RuleSpec
	min scheme.Minimum
	sch scheme.Scheme
	// mech is the AWSMechanism of an aws-sdk rule, 0 for others.
	mech AWSMechanism
	// advMin is AdvisoryMinimum parsed; nil without one.
	advMin scheme.Minimum
}

type prefixMatch struct {
	typ, namespace, prefix string
	rule                   *Rule
}

type addonPattern struct {
	pattern string
	rule    *Rule
}

// Version returns the catalog data version.
func (c *Catalog) Version() string { return c.version }

// Rules returns the enabled rules in catalog order.
func (c *Catalog) Rules() []*Rule { return c.rules }

// Rule returns the rule with id, or nil.
func (c *Catalog) Rule(id string) *Rule {
	for _, r := range c.rules {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// DefaultCatalog parses the embedded catalog. It cannot fail for a released
// binary: the embedded file is validated by the tests.
func DefaultCatalog() (*Catalog, error) {
	return LoadCatalog(defaultCatalogYAML)
}

// LoadCatalog strictly decodes, validates and compiles a catalog document.
// Errors carry field paths such as rules[3].minimum.
func LoadCatalog(data []byte) (*Catalog, error) {
	var doc CatalogDocument
	if err := DecodeStrict(data, &doc); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	if errs := ValidateCatalogDocument(&doc); len(errs) > 0 {
		return nil, fmt.Errorf("catalog: %w", errs.ToAggregate())
	}
	return Compile(doc)
}

// ValidateCatalogDocument checks a catalog document and returns every
// problem with its field path.
func ValidateCatalogDocument(doc *CatalogDocument) field.ErrorList {
	var errs field.ErrorList
	if doc.APIVersion != CatalogAPIVersion {
		errs = append(errs, field.NotSupported(field.NewPath("apiVersion"), doc.APIVersion, []string{CatalogAPIVersion}))
	}
	if doc.Kind != CatalogKind {
		errs = append(errs, field.NotSupported(field.NewPath("kind"), doc.Kind, []string{CatalogKind}))
	}
	errs = append(errs, ValidateRules(doc.Rules, field.NewPath("rules"))...)
	return errs
}

// ValidateRules checks catalog rules: unique ids, known kinds and schemes,
// parsable minimums, at least one match of the right sort.
func ValidateRules(rules []RuleSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := make(map[string]int, len(rules))
	for i := range rules {
		r := &rules[i]
		p := path.Index(i)
		errs = append(errs, validateRule(r, p)...)
		if r.ID == "" {
			continue
		}
		if j, dup := seen[r.ID]; dup {
			errs = append(errs, field.Duplicate(p.Child("id"), fmt.Sprintf("%s (also rules[%d].id)", r.ID, j)))
			continue
		}
		seen[r.ID] = i
	}
	return errs
}

func validateRule(r *RuleSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if strings.TrimSpace(r.ID) == "" {
		errs = append(errs, field.Required(p.Child("id"), "every rule needs an id"))
	}
	if r.Source == "" {
		errs = append(errs, field.Required(p.Child("source"), "every rule must cite where its minimum comes from"))
	}
	switch {
	case r.Kind == KindAWSSDK && credentialMechanism(r.Credentials) == 0:
		errs = append(errs, field.NotSupported(p.Child("credentials"), r.Credentials, []string{CredentialsIRSA, CredentialsPodIdentity}))
	case r.Kind != KindAWSSDK && r.Credentials != "":
		errs = append(errs, field.Forbidden(p.Child("credentials"), "only aws-sdk rules are about a credential mechanism"))
	}
	switch r.Kind {
	case KindSDK, KindAWSSDK:
		if len(r.Match.PURLs) == 0 {
			errs = append(errs, field.Required(p.Child("match", "purls"), "an sdk rule matches packages by purl"))
		}
		if len(r.Match.Images) > 0 {
			errs = append(errs, field.Forbidden(p.Child("match", "images"), "an sdk rule matches by purl, not by image"))
		}
		for j, m := range r.Match.PURLs {
			mp := p.Child("match", "purls").Index(j)
			if m.Type == "" {
				errs = append(errs, field.Required(mp.Child("type"), "purl type such as golang, pypi, maven"))
			}
			if m.Name == "" || m.Name == "*" {
				errs = append(errs, field.Required(mp.Child("name"), "purl name (a trailing * matches a prefix)"))
			} else if strings.Contains(strings.TrimSuffix(m.Name, "*"), "*") {
				errs = append(errs, field.Invalid(mp.Child("name"), m.Name, "only a trailing * is supported"))
			}
		}
	case KindAddon:
		if len(r.Match.Images) == 0 {
			errs = append(errs, field.Required(p.Child("match", "images"), "an addon rule matches image repository paths"))
		}
		if len(r.Match.PURLs) > 0 {
			errs = append(errs, field.Forbidden(p.Child("match", "purls"), "an addon rule matches by image, not by purl"))
		}
		for j, img := range r.Match.Images {
			if msg := validImagePattern(img); msg != "" {
				errs = append(errs, field.Invalid(p.Child("match", "images").Index(j), img, msg))
			}
		}
	default:
		errs = append(errs, field.NotSupported(p.Child("kind"), r.Kind, []string{KindSDK, KindAWSSDK, KindAddon}))
	}
	if r.Scheme == SchemeKubeSkew {
		if r.AdvisoryMinimum != "" {
			errs = append(errs, field.Forbidden(p.Child("advisoryMinimum"), "the kube-skew scheme takes no advisory minimum"))
		}
		if r.Minimum != MinimumControlPlane {
			errs = append(errs, field.Invalid(p.Child("minimum"), r.Minimum, "the kube-skew scheme takes the minimum \""+MinimumControlPlane+"\""))
		}
		if r.Kind != KindAddon {
			errs = append(errs, field.Invalid(p.Child("scheme"), r.Scheme, "kube-skew applies to addon rules only"))
		}
		return errs
	}
	s, ok := scheme.Lookup(r.Scheme)
	if !ok {
		errs = append(errs, field.NotSupported(p.Child("scheme"), r.Scheme, append(scheme.Names(), SchemeKubeSkew)))
		return errs
	}
	if r.Minimum == "" {
		errs = append(errs, field.Required(p.Child("minimum"), "the first version that refreshes tokens"))
	} else if _, err := s.ParseMinimum(r.Minimum); err != nil {
		errs = append(errs, field.Invalid(p.Child("minimum"), r.Minimum, err.Error()))
	}
	if r.AdvisoryMinimum != "" {
		switch adv, err := s.ParseMinimum(r.AdvisoryMinimum); {
		case err != nil:
			errs = append(errs, field.Invalid(p.Child("advisoryMinimum"), r.AdvisoryMinimum, err.Error()))
		case r.Advisory == "":
			errs = append(errs, field.Required(p.Child("advisory"), "an advisoryMinimum needs the advisory that says why it is uncertain"))
		case s.Check(r.Minimum, adv).Outcome != scheme.TooOld:
			errs = append(errs, field.Invalid(p.Child("advisoryMinimum"), r.AdvisoryMinimum, "must be above minimum "+r.Minimum))
		}
	}
	return errs
}

// validImagePattern returns why an image path pattern is invalid, or "".
func validImagePattern(s string) string {
	switch {
	case s == "":
		return "an image repository path such as eks/coredns"
	case strings.ContainsAny(s, ":@ \t"):
		return "a repository path without registry port, tag or digest"
	case strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/") || strings.Contains(s, "//"):
		return "path segments must not be empty"
	case s != strings.ToLower(s):
		return "repository paths are lowercase"
	}
	return ""
}

// Compile builds a Catalog from validated rules (disabled rules dropped).
// Call ValidateCatalogDocument first; Compile returns an error for what it
// cannot compile.
func Compile(doc CatalogDocument) (*Catalog, error) {
	c := &Catalog{
		version:     doc.Version,
		sdkExact:    make(map[purlKey][]*Rule),
		addonByLast: make(map[string][]addonPattern),
	}
	for i := range doc.Rules {
		spec := doc.Rules[i]
		if spec.Disabled {
			continue
		}
		r := &Rule{RuleSpec: spec, mech: credentialMechanism(spec.Credentials)}
		if spec.Scheme != SchemeKubeSkew {
			s, ok := scheme.Lookup(spec.Scheme)
			if !ok {
				return nil, fmt.Errorf("rules[%d].scheme: unknown scheme %q", i, spec.Scheme)
			}
			m, err := s.ParseMinimum(spec.Minimum)
			if err != nil {
				return nil, fmt.Errorf("rules[%d].minimum: %w", i, err)
			}
			r.sch, r.min = s, m
			if spec.AdvisoryMinimum != "" {
				if r.advMin, err = s.ParseMinimum(spec.AdvisoryMinimum); err != nil {
					return nil, fmt.Errorf("rules[%d].advisoryMinimum: %w", i, err)
				}
			}
		}
		c.rules = append(c.rules, r)
		for _, m := range spec.Match.PURLs {
			typ, ns := strings.ToLower(m.Type), normalizeNamespace(m.Namespace)
			if prefix, ok := strings.CutSuffix(m.Name, "*"); ok {
				c.sdkPrefix = append(c.sdkPrefix, prefixMatch{typ: typ, namespace: ns, prefix: normalizeName(typ, prefix), rule: r})
				continue
			}
			k := purlKey{typ, ns, normalizeName(typ, m.Name)}
			c.sdkExact[k] = append(c.sdkExact[k], r)
		}
		for _, img := range spec.Match.Images {
			last := img[strings.LastIndexByte(img, '/')+1:]
			c.addonByLast[last] = append(c.addonByLast[last], addonPattern{pattern: img, rule: r})
		}
	}
	// Longer patterns first, so the most specific pattern decides.
	for _, ps := range c.addonByLast {
		sort.SliceStable(ps, func(i, j int) bool { return len(ps[i].pattern) > len(ps[j].pattern) })
	}
	return c, nil
}
