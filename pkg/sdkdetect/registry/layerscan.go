package registry

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"golang.org/x/sync/singleflight"

	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect/filecat"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect/layers"
)

// Layer scanning reads an image's own files for client-SDK versions when
// no SBOM says them (package layers streams the layers, package filecat
// reads the files). A scan is keyed by the image's manifest digest and
// covers the platforms asked for; its result is cached like a lookup's.
// Scans run detached from the review, at most Concurrency at once, with
// at most QueueSize waiting: a review waits for one only within its own
// budget (serve), or until its context ends (Wait: check, audit).

// Layer-scan modes (LayerOptions.Mode).
const (
	LayersAuto   = "auto"
	LayersAlways = "always"
	LayersNever  = "never"
)

// Defaults of LayerOptions.
const (
	DefaultLayerTimeout     = 5 * time.Minute
	DefaultLayerConcurrency = 2
	DefaultLayerQueueSize   = 256
	DefaultLayerCacheBytes  = 64 << 20
)

// DefaultLayerPlatforms are the platforms of an index that are scanned.
var DefaultLayerPlatforms = []string{"linux/amd64", "linux/arm64"}

// LayerOptions configure layer scanning. The zero value (Mode "") is off.
type LayerOptions struct {
	// Mode is LayersAuto (scan when no usable SBOM is attached),
	// LayersAlways, or LayersNever ("" is never).
	Mode string
	// Platforms of an index that are scanned ("linux/amd64", or with a
	// variant "linux/arm/v7"); an image of one platform is always
	// scanned. Default: DefaultLayerPlatforms.
	Platforms []string
	// MaxCompressedBytes bounds the layer bytes read for one image (all
	// its platforms together). Default: layers.DefaultMaxCompressedBytes.
	MaxCompressedBytes int64
	// MaxFileBytes bounds one file held in memory. Default:
	// layers.DefaultMaxFileBytes.
	MaxFileBytes int64
	// Timeout bounds one image's scan. Default: 5m.
	Timeout time.Duration
	// Concurrency is the number of images scanned at once. Default: 2.
	Concurrency int
	// QueueSize bounds the scans waiting for a slot; past it, a scan is
	// not started (the image is scanned when next seen). Default: 256.
	QueueSize int
	// CacheBytes bounds the cache of layer summaries (base layers shared
	// by many images are read once). Default: 64 MiB.
	CacheBytes int64
	// Wait makes Evidence wait for a scan until its context ends (check,
	// audit) instead of only within the budget (serve).
	Wait bool
	// Catalogers read the files. Default: filecat.Default().
	Catalogers []filecat.Cataloger
}

func (o *LayerOptions) setDefaults() {
	if o.Mode == "" {
		o.Mode = LayersNever
	}
	if len(o.Platforms) == 0 {
		o.Platforms = DefaultLayerPlatforms
	}
	setDefault(&o.MaxCompressedBytes, layers.DefaultMaxCompressedBytes)
	setDefault(&o.MaxFileBytes, layers.DefaultMaxFileBytes)
	setDefault(&o.Timeout, DefaultLayerTimeout)
	setDefault(&o.Concurrency, DefaultLayerConcurrency)
	setDefault(&o.QueueSize, DefaultLayerQueueSize)
	setDefault(&o.CacheBytes, DefaultLayerCacheBytes)
	if o.Catalogers == nil {
		o.Catalogers = filecat.Default()
	}
}

// scanTarget is one image manifest a scan reads.
type scanTarget struct {
	digest   string
	platform string // "" for an image of one platform
}

// scanner runs layer scans for a Source.
type scanner struct {
	opts    LayerOptions
	summary *layers.MemoryCache
	slots   chan struct{} // Concurrency
	flight  singleflight.Group
	mu      sync.Mutex
	pending int // scans started and not ended (running or waiting)
}

func newScanner(o LayerOptions) *scanner {
	if o.Mode == LayersNever {
		return nil
	}
	return &scanner{opts: o, summary: layers.NewMemoryCache(o.CacheBytes), slots: make(chan struct{}, o.Concurrency)}
}

// wants reports whether an image with digest record rec is scanned.
func (sc *scanner) wants(rec *record) bool {
	if sc == nil || rec == nil || rec.digest == "" || len(rec.targets) == 0 {
		return false
	}
	if rec.unavailable != "" && rec.reason != ReasonUnusableSBOM {
		return false // the image itself could not be read
	}
	return sc.opts.Mode == LayersAlways || rec.sbom == ""
}

// Layer-scan messages (Evidence.LayersIncomplete).
const (
	msgScanUnderWay = "the scan of its files is under way; the next review of this image uses its result"
	msgScanQueued   = "the scan of its files has not started (%d scans are waiting); the image is scanned when next seen"
)

// scanKey is the cache key of a scan result.
func scanKey(repo name.Repository, digest string) string {
	return "l:" + repo.Name() + "@" + digest
}

// layerEvidence adds what a scan of the image's files found to ev, which
// already holds the lookup's record rec. It waits for a scan until b is
// over, or with Wait until ctx ends.
func (s *Source) layerEvidence(ctx context.Context, b *budget, ref name.Reference, c creds, rec *record, ev *policy.Evidence) {
	sc := s.scanner
	if !sc.wants(rec) {
		return
	}
	key := scanKey(ref.Context(), rec.digest)
	lrec, ok := s.get(key, c)
	if !ok {
		ch, queued := s.startScan(ref.Context(), rec, c)
		if !queued {
			ev.LayersIncomplete = fmt.Sprintf(msgScanQueued, sc.opts.QueueSize)
			return
		}
		var res singleflight.Result
		if sc.opts.Wait {
			select {
			case res = <-ch:
			case <-ctx.Done():
				ev.LayersIncomplete = "the scan of its files did not end in time: " + context.Cause(ctx).Error()
				return
			}
		} else {
			select {
			case res = <-ch:
			case <-b.over:
				ev.LayersIncomplete = msgScanUnderWay
				return
			case <-b.ctx.Done():
				ev.LayersIncomplete = msgScanUnderWay
				return
			}
		}
		lrec = res.Val.(*record)
	}
	lrec.fillLayers(ev)
}

// fillLayers adds a scan's record to ev: its packages after the SBOM's.
func (r *record) fillLayers(ev *policy.Evidence) {
	if len(r.packages) > 0 {
		if len(ev.Packages) == 0 {
			ev.Packages = r.packages
		} else {
			ev.Packages = append(slices.Clip(ev.Packages), r.packages...)
		}
	}
	ev.Layers = r.layers
	ev.LayersIncomplete = r.layersIncomplete
}

// startScan starts (or joins) the scan of the image of rec, detached from
// the caller; it reports false when QueueSize scans are waiting already.
func (s *Source) startScan(repo name.Repository, rec *record, c creds) (<-chan singleflight.Result, bool) {
	sc := s.scanner
	key := scanKey(repo, rec.digest)
	sc.mu.Lock()
	if sc.pending >= sc.opts.QueueSize+sc.opts.Concurrency {
		sc.mu.Unlock()
		s.opts.Metrics.LayerScan(ScanDropped, 0, 0)
		return nil, false
	}
	sc.mu.Unlock()
	return sc.flight.DoChan(c.scoped(key), func() (any, error) {
		if rec, ok := s.get(key, c); ok {
			return rec, nil
		}
		sc.mu.Lock()
		sc.pending++
		s.opts.Metrics.LayerScanQueue(sc.pending)
		sc.mu.Unlock()
		defer func() {
			sc.mu.Lock()
			sc.pending--
			s.opts.Metrics.LayerScanQueue(sc.pending)
			sc.mu.Unlock()
		}()
		if !s.trackScan() {
			return &record{layersIncomplete: "the scan of its files was cancelled: tokenguard is stopping"}, nil
		}
		defer s.wg.Done()
		select {
		case sc.slots <- struct{}{}:
		case <-s.base.Done():
			return &record{layersIncomplete: "the scan of its files was cancelled: tokenguard is stopping"}, nil
		}
		defer func() { <-sc.slots }()
		ctx, cancel := context.WithTimeout(s.base, sc.opts.Timeout)
		defer cancel()
		lrec := s.scan(ctx, repo, rec, c)
		s.put(key, c, lrec)
		return lrec, nil
	}), true
}

// trackScan registers a scan with Close, unless the Source is closed.
func (s *Source) trackScan() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// Outcomes of a layer scan, for Metrics.LayerScan.
const (
	ScanComplete   = "complete"
	ScanIncomplete = "incomplete"
	ScanFailed     = "failed"
	ScanDropped    = "dropped"
)

// scan reads the files of every target of rec and returns the record of
// what it found: packages (with their platform when the image has
// several, and their file), and whether the read was complete.
func (s *Source) scan(ctx context.Context, repo name.Repository, rec *record, c creds) *record {
	sc := s.scanner
	begin := time.Now()
	host := repo.RegistryStr()
	out := &record{ttl: s.opts.NoSBOMTTL}
	p, err := s.pullers.get(repo.Registry, c)
	if err != nil {
		out.layersIncomplete = "its files could not be read: " + s.failed(repo.Digest(rec.digest), err).unavailable
		out.ttl = s.opts.NegativeTTL
		s.opts.Metrics.LayerScan(ScanFailed, 0, time.Since(begin))
		return out
	}
	// Layer blobs may be as large as the scan's whole budget.
	ctx = context.WithValue(ctx, layerBlobLimit{}, sc.opts.MaxCompressedBytes)
	opts := layers.Options{
		Catalogers:         sc.opts.Catalogers,
		MaxCompressedBytes: sc.opts.MaxCompressedBytes,
		Limits:             filecat.Limits{MaxFileBytes: sc.opts.MaxFileBytes},
		Cache:              sc.summary,
	}
	var (
		reasons  []string
		notes    []filecat.Note
		read     int64
		files    int
		fetchErr bool
	)
	for _, t := range rec.targets {
		desc, err := p.Get(ctx, repo.Digest(t.digest))
		if err != nil {
			reasons = append(reasons, platformPrefix(t)+s.failed(repo.Digest(t.digest), err).unavailable)
			fetchErr = true
			continue
		}
		img, err := desc.Image()
		if err != nil {
			reasons = append(reasons, platformPrefix(t)+"its manifest cannot be read as an image: "+err.Error())
			continue
		}
		res, err := layers.Scan(ctx, img, opts)
		if err != nil {
			reasons = append(reasons, platformPrefix(t)+err.Error())
			continue
		}
		opts.MaxCompressedBytes -= res.CompressedBytes // one budget for all platforms
		if opts.MaxCompressedBytes <= 0 {
			opts.MaxCompressedBytes = 1
		}
		read += res.CompressedBytes
		files += res.Files
		if !res.Complete {
			reasons = append(reasons, platformPrefix(t)+res.Reason)
			for _, g := range res.Gaps {
				fetchErr = fetchErr || g.Kind == layers.GapFetch || g.Kind == layers.GapCanceled
			}
		}
		notes = append(notes, res.Notes...)
		for _, f := range res.Found {
			pkg := f.Package
			pkg.Type, pkg.Namespace, pkg.Name = intern(pkg.Type), intern(pkg.Namespace), intern(pkg.Name)
			pkg.Source, pkg.Platform, pkg.File = intern(pkg.Source), intern(t.platform), f.File
			out.packages = append(out.packages, pkg)
		}
	}
	outcome := ScanComplete
	switch {
	case len(reasons) > 0:
		outcome = ScanIncomplete
		out.layersIncomplete = "the scan of its files was cut short: " + strings.Join(reasons, "; ")
		if fetchErr {
			out.ttl = s.opts.NegativeTTL
		}
	case len(out.packages) == 0 && len(notes) > 0:
		// No SDK found, but some file could not be read: that is not
		// "no SDK".
		outcome = ScanIncomplete
		out.layersIncomplete = "some of its files could not be read: " + noteText(notes)
	default:
		out.layers = policy.SourceLayers
		out.ttl = 0 // complete: kept until evicted
	}
	d := time.Since(begin)
	s.opts.Metrics.LayerScan(outcome, read, d)
	s.opts.Logger.Info("image files scanned", "image", repo.Name()+"@"+rec.digest, "outcome", outcome,
		"packages", len(out.packages), "files", files, "compressedBytes", read, "duration", d, "registry", host, "reason", out.layersIncomplete)
	return out
}

func platformPrefix(t scanTarget) string {
	if t.platform == "" {
		return ""
	}
	return t.platform + ": "
}

// noteText is the first notes, as one clause.
func noteText(notes []filecat.Note) string {
	const most = 3
	var parts []string
	for i, n := range notes {
		if i == most {
			parts = append(parts, fmt.Sprintf("and %d more", len(notes)-most))
			break
		}
		parts = append(parts, n.File+" ("+n.Reason+")")
	}
	return strings.Join(parts, ", ")
}

// scanTargets picks the images of an index that a scan reads: those of the
// platforms asked for, or the image itself.
func scanTargets(images []platformImage, isIndex bool, digest string, platforms []string) []scanTarget {
	if !isIndex {
		return []scanTarget{{digest: digest}}
	}
	var out []scanTarget
	for _, im := range images {
		if im.platform == "" || platformWanted(im.platform, platforms) {
			out = append(out, scanTarget{digest: im.desc.Digest.String(), platform: intern(im.platform)})
		}
	}
	return out
}

// platformWanted reports whether platform ("linux/arm64/v8") is one of
// want: equal, or want names no variant and os/arch agree.
func platformWanted(platform string, want []string) bool {
	for _, w := range want {
		if w == platform || strings.Count(w, "/") == 1 && strings.HasPrefix(platform, w+"/") {
			return true
		}
	}
	return false
}
