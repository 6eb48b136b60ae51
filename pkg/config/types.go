package config

import "github.com/tokenguard/tokenguard/pkg/policy"

// APIVersion and Kind identify a configuration document.
const (
	APIVersion = "tokenguard.io/v1alpha1"
	Kind       = "TokenGuardConfiguration"
)

// Configuration is the TokenGuardConfiguration document. The zero value is
// not valid; use Default, or SetDefaults on a decoded document.
type Configuration struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Unknown says what to do with workloads whose version cannot be
	// determined. Default: allow.
	Unknown UnknownAction `json:"unknown,omitempty"`
	// ControlPlaneVersion is the API server's version ("v1.30") for the
	// kube-proxy skew rule. Empty: discover it from the API server when
	// possible, else kube-proxy findings are unknown.
	ControlPlaneVersion string `json:"controlPlaneVersion,omitempty"`
	// CatalogConfig overrides the embedded default catalog (the field is
	// "catalog" in files; the method Catalog compiles the result).
	CatalogConfig CatalogConfig `json:"catalog"`
	// Exemptions lists what is never judged.
	Exemptions Exemptions `json:"exemptions"`
	// Registry configures registry evidence (labels, SBOMs).
	Registry RegistryConfig `json:"registry"`
}

// UnknownAction is what happens to a workload whose verdict is unknown.
type UnknownAction string

// Unknown actions.
const (
	// UnknownAllow allows unknown workloads silently (the default).
	UnknownAllow UnknownAction = "allow"
	// UnknownWarn allows them with an admission warning.
	UnknownWarn UnknownAction = "warn"
	// UnknownDeny denies them in enforce mode (and warns in warn mode).
	UnknownDeny UnknownAction = "deny"
)

// UnknownActions lists the supported UnknownAction values.
var UnknownActions = []UnknownAction{UnknownAllow, UnknownWarn, UnknownDeny}

// CatalogConfig changes the embedded default catalog. Overrides apply in
// order: Rules, then Minimums, then Disable.
type CatalogConfig struct {
	// Rules are full catalog rules (the syntax of the catalog file): a rule
	// replaces the default rule with the same id, or is added after the
	// default rules.
	Rules []policy.RuleSpec `json:"rules,omitempty"`
	// Minimums sets the minimum of an existing rule, by id, in that rule's
	// version scheme.
	Minimums map[string]string `json:"minimums,omitempty"`
	// Disable turns rules off by id.
	Disable []string `json:"disable,omitempty"`
}

// Exemptions lists what the configuration exempts. Exemptions come only
// from here, never from a label a workload sets on itself.
type Exemptions struct {
	// Namespaces are namespace names, or glob patterns ("team-*-sandbox").
	Namespaces []string `json:"namespaces,omitempty"`
	// ServiceAccounts are "namespace:name" or
	// "system:serviceaccount:namespace:name"; either part may be a glob
	// pattern ("monitoring:*").
	ServiceAccounts []string `json:"serviceAccounts,omitempty"`
	// Images are image references or glob patterns over them
	// ("registry.example.com/legacy/**"); see Exempter.Image.
	Images []string `json:"images,omitempty"`
	// Components are catalog rule ids (or the token finding components
	// "projected-token-expiration" and "legacy-token-secret") whose findings
	// are exempt.
	Components []string `json:"components,omitempty"`
}

// RegistryConfig configures registry evidence.
type RegistryConfig struct {
	// Enabled turns registry lookups on. Default: false.
	Enabled bool `json:"enabled"`
	// Timeout is the admission budget for registry lookups of one request.
	// Default: 2s; must be above 0 and below 10s (the webhook timeout).
	Timeout Duration `json:"timeout"`
	// CacheEntries bounds the evidence cache by entries. Default: 10000.
	CacheEntries int `json:"cacheEntries"`
	// CacheBytes bounds the evidence cache by size. Default: 64Mi.
	CacheBytes ByteSize `json:"cacheBytes"`
	// MaxSBOMBytes bounds one SBOM or attestation download; a larger one
	// is not read (the image's evidence says so and the verdict is
	// unknown). SBOMs are parsed as they stream, so this bounds transfer
	// and time, not memory. Default: 64Mi; at most 1Gi.
	MaxSBOMBytes ByteSize `json:"maxSBOMBytes"`
	// InsecureRegistries are registries (host or host:port) reached over
	// plain HTTP or TLS without verification.
	InsecureRegistries []string `json:"insecureRegistries,omitempty"`
	// Registries, when set, limits lookups to these registries (host or
	// host:port); images elsewhere get tag evidence only and no request is
	// ever sent there. Default: every registry.
	Registries []string `json:"registries,omitempty"`
	// PullSecrets makes lookups use the pod's image pull secrets and its
	// service account's, read through informer caches of the cluster's
	// service accounts and pull secrets (kubernetes.io/dockerconfigjson,
	// kubernetes.io/dockercfg). It needs get, list and watch on secrets
	// and serviceaccounts (deploy/components/registry-credentials) and a
	// kubeconfig or in-cluster config; ignored while Enabled is false.
	// Default: false (only the webhook's own Docker config and credential
	// helpers).
	PullSecrets bool `json:"pullSecrets"`
}
