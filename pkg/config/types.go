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
	// Layers configures reading SDK versions from the image's own files
	// when no SBOM is attached (layer scanning).
	Layers LayersConfig `json:"layers"`
}

// Layer-scan modes.
const (
	// LayersAuto scans an image's layers only when no SBOM is attached.
	LayersAuto = "auto"
	// LayersAlways scans layers even when an SBOM is attached.
	LayersAlways = "always"
	// LayersNever never scans layers.
	LayersNever = "never"
)

// LayersConfig configures layer scanning: tokenguard streams an image's
// layers from the registry (nothing is written to disk) and reads the
// client-SDK versions from the files that record them (Go build
// information, Python and Node package metadata, jars, .NET deps.json,
// gemspecs). In serve, a scan never holds an admission request past
// registry.timeout: it goes on in the background, and the next pod of the
// image gets the result.
type LayersConfig struct {
	// Mode is auto (scan when no SBOM is attached), always or never.
	// Default: auto. Needs registry.enabled.
	Mode string `json:"mode"`
	// Platforms of an image index that are scanned, as os/arch or
	// os/arch/variant; the worst verdict counts. Default: linux/amd64 and
	// linux/arm64.
	Platforms []string `json:"platforms,omitempty"`
	// MaxCompressedBytes bounds the compressed layer bytes read for one
	// image (all its scanned platforms). Default: 2Gi; 1Mi to 64Gi.
	MaxCompressedBytes ByteSize `json:"maxCompressedBytes"`
	// MaxFileBytes bounds one file (or archive member) held in memory to be
	// read. Default: 64Mi; 1Mi to 1Gi.
	MaxFileBytes ByteSize `json:"maxFileBytes"`
	// Timeout bounds one image's scan. Default: 5m; 1s to 1h.
	Timeout Duration `json:"timeout"`
	// Concurrency is the number of images scanned at once. Default: 2;
	// 1 to 64.
	Concurrency int `json:"concurrency"`
	// QueueSize bounds the images waiting for a background scan in serve;
	// more are dropped (and scanned when they are next seen). Default: 256;
	// 1 to 100000.
	QueueSize int `json:"queueSize"`
}
