package registry

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"golang.org/x/sync/singleflight"

	"github.com/tokenguard/tokenguard/pkg/imageref"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect"
)

// Defaults of Options.
const (
	DefaultTimeout                = 2 * time.Second
	DefaultBackgroundTimeout      = 30 * time.Second
	DefaultCacheEntries           = 10000
	DefaultCacheBytes             = 64 << 20
	DefaultPerRegistryConcurrency = 8
	DefaultTagTTL                 = time.Minute
	DefaultNegativeTTL            = 30 * time.Second
	DefaultNoSBOMTTL              = 10 * time.Minute
	DefaultMaxManifestBytes       = 4 << 20
	DefaultMaxSBOMBytes           = sdkdetect.DefaultSBOMMaxBytes
	DefaultMaxPlatforms           = 8
	DefaultMaxLookupsPerRegistry  = 512
)

// Options configure a Source. The zero value of every field means its
// default.
type Options struct {
	// Timeout is the budget: how long Evidence waits for a lookup before it
	// answers with tag evidence only. A context deadline that comes sooner
	// wins. Default: 2s.
	Timeout time.Duration
	// BackgroundTimeout bounds a whole lookup, which goes on filling the
	// cache after Evidence has given up waiting. Default: 30s.
	BackgroundTimeout time.Duration
	// CacheEntries and CacheBytes bound the cache (tags, digests and
	// failures together). Defaults: 10000 entries, 64 MiB.
	CacheEntries int
	CacheBytes   int64
	// InsecureRegistries are hosts (host or host:port) reached over plain
	// HTTP, or HTTPS without certificate verification.
	InsecureRegistries []string
	// Registries, when not empty, are the only hosts looked up: images
	// elsewhere get tag evidence and no request. Default: every registry.
	//
	// Registry requests (token servers and redirects too) never connect to
	// loopback, link-local (cloud metadata), private, CGNAT, unspecified,
	// multicast or reserved addresses, after DNS resolution, unless the
	// host is listed here or in InsecureRegistries: "host:port" allows
	// that port, a bare "host" every port of the host. Metrics name the
	// hosts listed here or in InsecureRegistries; others count as "other".
	Registries []string
	// Keychain finds credentials per registry. Default: authn.DefaultKeychain.
	Keychain authn.Keychain
	// Credentials, when set, gives the credentials of whoever pulls an
	// image (a pod's image pull secrets and service account's), tried
	// before Keychain; see Credentials. Default: none.
	Credentials Credentials
	// Transport sends the HTTP requests. Default: a clone of
	// remote.DefaultTransport (and one without TLS verification for
	// InsecureRegistries).
	Transport http.RoundTripper
	// Keep selects the SBOM packages worth keeping (the catalogued ones).
	// Default: every package with a purl.
	Keep func(sdkdetect.PURL) bool
	// PerRegistryConcurrency bounds the requests in flight to one host.
	// Default: 8.
	PerRegistryConcurrency int
	// TagTTL is how long a tag's digest is trusted. Default: 1m.
	TagTTL time.Duration
	// NegativeTTL is how long a failed lookup is remembered. Default: 30s.
	NegativeTTL time.Duration
	// NoSBOMTTL is how long "this digest has no SBOM" is remembered, since
	// SBOMs may be attached after the image was pushed. Results with an
	// SBOM stay until evicted. Default: 10m.
	NoSBOMTTL time.Duration
	// MaxManifestBytes bounds manifests, referrers lists, image configs and
	// token responses. Default: 4 MiB.
	MaxManifestBytes int64
	// MaxSBOMBytes bounds one SBOM or attestation blob; larger ones are
	// skipped without download when their size is declared. Default: 64 MiB.
	MaxSBOMBytes int64
	// MaxPlatforms bounds the linux images of an index that are read (their
	// SBOMs and attestations); the others are left out and logged, so an
	// index of thousands of platforms costs tens of requests. Default: 8.
	MaxPlatforms int
	// MaxLookupsPerRegistry bounds the lookups under way for one registry
	// (eight times it for all together). A lookup goes on after the
	// review stopped waiting for it, so while a registry hangs each new
	// image would add one until BackgroundTimeout; past the bound the
	// review answers without starting one ("busy"), and the image is
	// looked up on a later review. Default: 512.
	MaxLookupsPerRegistry int
	// Layers configures layer scanning (reading SDK versions from the
	// image's files when no SBOM says them). Default: off.
	Layers LayerOptions
	// Shared, when set, is evidence other processes found (the cluster's
	// ImageEvidence objects): a digest it holds is not inspected nor
	// scanned again, and what this Source finds completely is offered to
	// it. Default: none.
	Shared Shared
	// Logger receives one line per lookup. Default: slog.Default().
	Logger *slog.Logger
	// Metrics receives counts and durations. Default: NopMetrics.
	Metrics Metrics
	// now is the clock, for tests.
	now func() time.Time
	// lookupIP resolves host names for the address guard, for tests.
	// Default: net.DefaultResolver.
	lookupIP lookupFunc
}

func (o *Options) setDefaults() {
	setDefault(&o.Timeout, DefaultTimeout)
	setDefault(&o.BackgroundTimeout, DefaultBackgroundTimeout)
	setDefault(&o.CacheEntries, DefaultCacheEntries)
	setDefault(&o.CacheBytes, DefaultCacheBytes)
	setDefault(&o.PerRegistryConcurrency, DefaultPerRegistryConcurrency)
	setDefault(&o.TagTTL, DefaultTagTTL)
	setDefault(&o.NegativeTTL, DefaultNegativeTTL)
	setDefault(&o.NoSBOMTTL, DefaultNoSBOMTTL)
	setDefault(&o.MaxManifestBytes, DefaultMaxManifestBytes)
	setDefault(&o.MaxSBOMBytes, DefaultMaxSBOMBytes)
	setDefault(&o.MaxPlatforms, DefaultMaxPlatforms)
	setDefault(&o.MaxLookupsPerRegistry, DefaultMaxLookupsPerRegistry)
	o.Layers.setDefaults()
	if o.BackgroundTimeout < o.Timeout {
		o.BackgroundTimeout = o.Timeout
	}
	if o.Keychain == nil {
		o.Keychain = authn.DefaultKeychain
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = NopMetrics{}
	}
	if o.now == nil {
		o.now = time.Now
	}
}

func setDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Source finds evidence for images in their registries: config labels and
// the catalogued packages of every SBOM attached to them. It implements
// engine.EvidenceSource and is safe for concurrent use.
//
// Evidence waits at most the budget; a lookup that takes longer goes on in
// the background and fills the cache for the next call. Results are cached
// by digest, tags by TagTTL, failures by NegativeTTL, and concurrent
// lookups of one reference share one set of requests.
type Source struct {
	opts     Options
	cache    *cache
	flight   singleflight.Group
	guard    *guard
	insecure map[string]bool
	// allowed holds Options.Registries; nil means every registry.
	allowed map[string]bool
	// listed holds Options.Registries and InsecureRegistries: the hosts
	// that may have private addresses and that metrics name.
	listed  hostList
	pullers pullers
	// scanner runs layer scans; nil when they are off.
	scanner *scanner

	// base is the parent of background lookups; Close cancels it.
	base   context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
	// lookups counts the lookups under way by registry host (entries
	// removed at zero), lookupsAll all of them; guarded by mu.
	lookups    map[string]int
	lookupsAll int
}

// New returns a Source with opts, defaulted.
func New(opts Options) *Source {
	opts.setDefaults()
	insecure := make(map[string]bool, len(opts.InsecureRegistries))
	for _, h := range opts.InsecureRegistries {
		insecure[strings.ToLower(h)] = true
	}
	listed := newHostList(opts.Registries, opts.InsecureRegistries)
	addrs := newAddrGuard(listed, opts.lookupIP)
	secure, insecureRT, proxy, guarded := newBaseTransports(opts.Transport, addrs)
	base, cancel := context.WithCancel(context.Background())
	s := &Source{
		opts:     opts,
		cache:    newCache(opts.CacheEntries, opts.CacheBytes, opts.now),
		insecure: insecure,
		listed:   listed,
		base:     base,
		cancel:   cancel,
	}
	g := &guard{
		secure: secure, insecure: insecureRT, insecureHosts: insecure,
		perHost:   opts.PerRegistryConcurrency,
		maxSmall:  opts.MaxManifestBytes,
		maxBlob:   opts.MaxSBOMBytes,
		onRequest: func(host string) { opts.Metrics.Request(s.hostLabel(host)) },
		addrs:     addrs,
		proxy:     proxy,
		checkAll:  !guarded,
		sems:      newHostLRU[chan struct{}](maxHosts),
	}
	s.guard = g
	s.scanner = newScanner(opts.Layers)
	if len(opts.Registries) > 0 {
		s.allowed = make(map[string]bool, len(opts.Registries))
		for _, h := range opts.Registries {
			s.allowed[strings.ToLower(h)] = true
		}
	}
	s.pullers.init(g, opts, base)
	return s
}

// reasonNotListed is the Unavailable reason for an image whose registry is
// not among Options.Registries.
const reasonNotListed = "its registry is not among the registries tokenguard looks up (registry.registries in the configuration)"

// hostLabel is host as a metric label: the host itself when it is listed
// in Options.Registries or InsecureRegistries, else "other", so that images
// naming many hosts cannot grow the metrics without bound.
func (s *Source) hostLabel(host string) string {
	if s.listed.allows(host) {
		return strings.ToLower(host)
	}
	return "other"
}

// Close stops background lookups and waits for them to end.
func (s *Source) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// Evidence returns what is known about image: the tag, and the labels and
// SBOM packages found in its registry. It waits at most the budget (or the
// context's deadline, if sooner); past it, or when the registry fails, it
// returns tag evidence with Unavailable saying why. The returned Labels and
// Packages are shared with the cache and must not be modified.
func (s *Source) Evidence(ctx context.Context, puller policy.Puller, image string) *policy.Evidence {
	ev := sdkdetect.TagEvidence(image)
	if ev.Unavailable != "" {
		return ev
	}
	if s.allowed != nil && !s.allowed[strings.ToLower(ev.Ref.Registry)] {
		ev.Unavailable = reasonNotListed
		return ev
	}
	ref, err := s.reference(ev.Ref)
	if err != nil {
		ev.Unavailable = "the image reference is invalid: " + err.Error()
		return ev
	}
	c := s.credsOf(puller)
	b := s.newBudget(ctx)
	defer b.stop()
	tag, pinned := pinnedTag(ref, ev.Ref)
	var tagCh <-chan singleflight.Result
	if pinned {
		if rec, ok := s.get(refKey(tag), c); ok {
			verifyTag(ev, rec)
		} else {
			tagCh = s.startTag(tag, c)
		}
	}
	onTime := true
	rec, ok := s.cached(ref, c)
	if ok {
		s.opts.Metrics.CacheResult(true)
		rec.fill(ev)
	} else {
		s.opts.Metrics.CacheResult(false)
		rec, onTime = s.wait(b, ref, c, ev)
	}
	if onTime {
		s.layerEvidence(ctx, b, ref, c, rec, ev)
		s.offer(rec, ev)
	}
	if tagCh != nil {
		s.waitTag(b, tag, tagCh, ev, onTime)
	}
	return ev
}

// Prefetch starts lookups of images that are not cached, without waiting:
// callers about to ask for several images let them run in parallel. The
// lookups outlive ctx.
func (s *Source) Prefetch(_ context.Context, puller policy.Puller, images ...string) {
	c := s.credsOf(puller)
	for _, image := range images {
		pr, err := imageref.Parse(image)
		if err != nil || s.allowed != nil && !s.allowed[strings.ToLower(pr.Registry)] {
			continue
		}
		ref, err := s.reference(pr)
		if err != nil {
			continue
		}
		if _, ok := s.cached(ref, c); !ok {
			s.start(ref, c)
		}
		if tag, ok := pinnedTag(ref, pr); ok {
			if _, ok := s.get(refKey(tag), c); !ok {
				s.startTag(tag, c)
			}
		}
	}
}

// reference returns ggcr's reference to an image parsed by imageref.Parse,
// without parsing it again: by digest when it has one (as ggcr does, a tag
// beside a digest is dropped, and checked apart: see pinnedTag), else by tag, "latest" when it has none.
// Insecure registries are marked so. Docker Hub ("docker.io") becomes
// ggcr's index.docker.io.
func (s *Source) reference(r policy.ImageRef) (name.Reference, error) {
	var opts []name.Option
	if s.insecure[strings.ToLower(r.Registry)] {
		opts = append(opts, name.Insecure)
	}
	reg, err := name.NewRegistry(r.Registry, opts...)
	if err != nil {
		return nil, err
	}
	repo := reg.Repo(r.Repository)
	switch {
	case r.Digest != "":
		return repo.Digest(r.Digest), nil
	case r.Tag != "":
		return repo.Tag(r.Tag), nil
	}
	return repo.Tag(name.DefaultTag), nil
}

// cached returns the cached record for ref as seen with credentials c: a
// digest's result, a tag's failure, or the result of the digest a cached
// tag points at.
func (s *Source) cached(ref name.Reference, c creds) (*record, bool) {
	rec, ok := s.get(refKey(ref), c)
	if !ok {
		return nil, false
	}
	if _, isTag := ref.(name.Tag); isTag && rec.unavailable == "" {
		return s.get(digestKey(ref.Context(), rec.digest), c)
	}
	return rec, true
}

// get returns the record at key as seen with credentials c: successes are
// shared by everyone, failures only by lookups with the same credentials.
func (s *Source) get(key string, c creds) (*record, bool) {
	rec, ok := s.cache.get(key)
	if ok && (rec.unavailable == "" || c.key == "") {
		return rec, true
	}
	if c.key == "" {
		return nil, false
	}
	return s.cache.get(c.scoped(key))
}

// put caches rec at key, failures under c's own key.
func (s *Source) put(key string, c creds, rec *record) {
	if rec.unavailable != "" {
		key = c.scoped(key)
	}
	s.cache.add(key, rec)
}

// refKey is the cache key of a reference: "t:repo:tag" or "d:repo@digest".
func refKey(ref name.Reference) string {
	if t, ok := ref.(name.Tag); ok {
		return "t:" + t.Context().Name() + ":" + t.TagStr()
	}
	return digestKey(ref.Context(), ref.Identifier())
}

func digestKey(repo name.Repository, digest string) string {
	return "d:" + repo.Name() + "@" + digest
}
