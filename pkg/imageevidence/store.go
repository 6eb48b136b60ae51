package imageevidence

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/flowcontrol"

	"github.com/tokenguard/tokenguard/pkg/apis/tokenguard/v1alpha1"
	"github.com/tokenguard/tokenguard/pkg/policy"
)

// StoreOptions tune a Store; zero values take the defaults.
type StoreOptions struct {
	// WriteQPS and WriteBurst bound the writes of one process (creates,
	// updates, deletes). Defaults: 5 a second, 10 at once.
	WriteQPS   float32
	WriteBurst int
	// MaxPending bounds the offers waiting to be written; past it offers
	// of new digests are dropped (and counted). Default: 1000.
	MaxPending int
	// RefreshAfter is how old a stored observation must be before an
	// offer with the same findings is written just to say it was made
	// again (readers look up evidence without an SBOM again after the
	// registry's NoSBOMTTL). Default: 5m.
	RefreshAfter time.Duration
	// Retry is how often a Store that found no ImageEvidence resource (the
	// CRD is not installed) or was refused asks again. Default: 1m.
	Retry time.Duration
	// Logger receives what the store does. Default: discard.
	Logger *slog.Logger
	// OnLookup is called on every Lookup with whether it was answered;
	// OnWrite on every write ended (created, updated, unchanged, deleted,
	// conflict, error, dropped). Both may be nil.
	OnLookup func(hit bool)
	OnWrite  func(outcome string)
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// requestTimeout bounds each write request.
const requestTimeout = 15 * time.Second

// Write outcomes, as OnWrite receives them.
const (
	WriteCreated   = "created"
	WriteUpdated   = "updated"
	WriteUnchanged = "unchanged"
	WriteDeleted   = "deleted"
	WriteConflict  = "conflict"
	WriteError     = "error"
	WriteDropped   = "dropped"
)

// Store is the cluster's ImageEvidence objects as a second-level evidence
// cache (registry.Shared): Lookup reads an informer's cache and sends no
// request; Offer queues what a lookup found, and one goroutine writes the
// queue at a bounded rate. Evidence is taken only when it is Final under
// the Store's catalog. Until the API server serves ImageEvidence (the CRD
// is installed) and this process may list it, the Store answers nothing,
// drops offers and asks again every Retry, so a process without the CRD
// works as it would without a Store. It is safe for concurrent use.
type Store struct {
	client  dynamic.Interface
	catalog *policy.Catalog
	opts    StoreOptions
	limiter flowcontrol.RateLimiter

	informer cache.SharedIndexInformer
	// on is set once the informer runs; synced once it has listed.
	on atomic.Bool

	// ready is closed once the first probe answered and, when the
	// resource is served, the informer has listed.
	ready     chan struct{}
	readyOnce sync.Once

	mu      sync.Mutex
	pending map[string]*v1alpha1.ImageEvidence // by object name
	order   []string                           // names in offer order
	kick    chan struct{}
}

// NewStore returns a Store of the ImageEvidence objects reached with
// client, judged under catalog. Call Start.
func NewStore(client dynamic.Interface, catalog *policy.Catalog, o StoreOptions) *Store {
	if o.WriteQPS <= 0 {
		o.WriteQPS = 5
	}
	if o.WriteBurst < 1 {
		o.WriteBurst = 10
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 1000
	}
	if o.RefreshAfter <= 0 {
		o.RefreshAfter = 5 * time.Minute
	}
	if o.Retry <= 0 {
		o.Retry = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Store{
		client: client, catalog: catalog, opts: o,
		limiter: flowcontrol.NewTokenBucketRateLimiter(o.WriteQPS, o.WriteBurst),
		pending: map[string]*v1alpha1.ImageEvidence{},
		kick:    make(chan struct{}, 1),
		ready:   make(chan struct{}),
	}
	res := client.Resource(v1alpha1.ImageEvidenceResource)
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return res.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return res.Watch(ctx, o)
		},
	}
	s.informer = cache.NewSharedIndexInformerWithOptions(lw, &unstructured.Unstructured{}, cache.SharedIndexInformerOptions{})
	// Typed, without managed fields: what readers use, and smaller.
	_ = s.informer.SetTransform(func(obj any) (any, error) {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return obj, nil
		}
		ie := &v1alpha1.ImageEvidence{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, ie); err != nil {
			// Not what this version understands: leave it out.
			return &v1alpha1.ImageEvidence{ObjectMeta: metav1.ObjectMeta{Name: u.GetName(), ResourceVersion: u.GetResourceVersion()}}, nil
		}
		ie.ManagedFields = nil
		return ie, nil
	})
	return s
}

// Start runs the store until ctx ends: it waits (asking every Retry) until
// ImageEvidence may be listed, then runs the informer and the writer. It
// returns at once.
func (s *Store) Start(ctx context.Context) {
	go func() {
		said := ""
		for {
			err := s.probe(ctx)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return
			}
			s.readyOnce.Do(func() { close(s.ready) })
			// Said once per kind of answer: the CRD may never come.
			kind := "refused"
			if apierrors.IsNotFound(err) {
				kind = "absent"
			}
			if kind == said {
				s.opts.Logger.Debug("imageevidences.tokenguard.io still not readable", "error", err.Error())
			} else if said = kind; apierrors.IsNotFound(err) {
				s.opts.Logger.Info("imageevidences.tokenguard.io is not served (the CRD in deploy/crds is not installed): registry evidence stays in this process; asking again later", "retry", s.opts.Retry.String())
			} else {
				s.opts.Logger.Warn("cannot list imageevidences.tokenguard.io, so registry evidence is not shared with the other replicas (RBAC: deploy/components/controller grants it); asking again later", "error", err.Error(), "retry", s.opts.Retry.String())
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(s.opts.Retry):
			}
		}
		go s.informer.RunWithContext(ctx)
		if !cache.WaitForCacheSync(ctx.Done(), s.informer.HasSynced) {
			return
		}
		s.on.Store(true)
		s.readyOnce.Do(func() { close(s.ready) })
		s.opts.Logger.Info("sharing registry evidence through ImageEvidence objects", "objects", len(s.informer.GetStore().ListKeys()))
		s.writeLoop(ctx)
	}()
}

// probe lists one ImageEvidence: nil when the resource is served and may
// be listed.
func (s *Store) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err := s.client.Resource(v1alpha1.ImageEvidenceResource).List(ctx, metav1.ListOptions{Limit: 1})
	return err
}

// Ready is closed once the store knows whether it is enabled: the first
// answer was that ImageEvidence is not readable, or its informer has
// listed.
func (s *Store) Ready() <-chan struct{} { return s.ready }

// Enabled reports whether the store reads and writes ImageEvidence: the
// resource is served and its informer has listed.
func (s *Store) Enabled() bool { return s.on.Load() }

// Get returns the stored ImageEvidence of digest, or nil. The caller must
// not modify it.
func (s *Store) Get(digest string) *v1alpha1.ImageEvidence {
	if !s.on.Load() {
		return nil
	}
	name := v1alpha1.ObjectName(digest)
	if name == "" {
		return nil
	}
	obj, ok, err := s.informer.GetStore().GetByKey(name)
	if err != nil || !ok {
		return nil
	}
	ie, _ := obj.(*v1alpha1.ImageEvidence)
	return ie
}

// List returns every stored ImageEvidence. The caller must not modify
// them.
func (s *Store) List() []*v1alpha1.ImageEvidence {
	if !s.on.Load() {
		return nil
	}
	objs := s.informer.GetStore().List()
	out := make([]*v1alpha1.ImageEvidence, 0, len(objs))
	for _, o := range objs {
		if ie, ok := o.(*v1alpha1.ImageEvidence); ok && ie.Spec.Digest != "" {
			out = append(out, ie)
		}
	}
	return out
}

// Lookup implements registry.Shared: the evidence of digest when its
// ImageEvidence is Final under the store's catalog, and its observation
// time.
func (s *Store) Lookup(digest string) (*policy.Evidence, time.Time, bool) {
	ie := s.Get(digest)
	ok := ie != nil && Final(ie, s.catalog)
	if s.opts.OnLookup != nil && s.on.Load() {
		s.opts.OnLookup(ok)
	}
	if !ok {
		return nil, time.Time{}, false
	}
	ev := ToEvidence(ie, policy.ImageRef{})
	ev.Digest = digest
	return ev, ie.Status.ObservedTime.Time, true
}

// Offer implements registry.Shared: it queues the ImageEvidence of ev for
// writing, unless the store is off or MaxPending offers wait already (then
// it reports false). A later offer of a digest replaces a waiting one.
func (s *Store) Offer(digest string, ev *policy.Evidence) bool {
	if !s.on.Load() {
		return false
	}
	ie := FromEvidence(digest, ev, s.catalog, s.opts.Now())
	if ie == nil {
		return true // nothing to store for this digest, ever
	}
	s.mu.Lock()
	_, waiting := s.pending[ie.Name]
	if !waiting && len(s.pending) >= s.opts.MaxPending {
		s.mu.Unlock()
		s.count(WriteDropped)
		return false
	}
	if !waiting {
		s.order = append(s.order, ie.Name)
	}
	s.pending[ie.Name] = ie
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
	return true
}

func (s *Store) count(outcome string) {
	if s.opts.OnWrite != nil {
		s.opts.OnWrite(outcome)
	}
}

// writeLoop writes offers as they come, until ctx ends.
func (s *Store) writeLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		}
		for {
			s.mu.Lock()
			if len(s.order) == 0 {
				s.mu.Unlock()
				break
			}
			name := s.order[0]
			s.order = s.order[1:]
			ie := s.pending[name]
			delete(s.pending, name)
			s.mu.Unlock()
			if ie == nil {
				continue
			}
			if _, err := s.Write(ctx, ie); err != nil && ctx.Err() == nil {
				s.opts.Logger.Warn("cannot write ImageEvidence; the other replicas look the image up themselves", "name", name, "error", err.Error())
			}
		}
	}
}

// Write stores fresh, a new lookup's ImageEvidence, merged into the stored
// object of its digest (Merge): a create, or an update of what changed
// (spec images; status), after the rate limiter. An offer that only
// repeats the stored findings of the store's catalog is not written unless
// the stored observation is older than RefreshAfter. It returns what it
// did; a conflict (another process wrote first) is not an error.
func (s *Store) Write(ctx context.Context, fresh *v1alpha1.ImageEvidence) (string, error) {
	outcome, err := s.write(ctx, fresh)
	s.count(outcome)
	return outcome, err
}

func (s *Store) write(ctx context.Context, fresh *v1alpha1.ImageEvidence) (string, error) {
	stored := s.Get(fresh.Spec.Digest)
	if stored != nil && Current(stored, s.catalog) && sameFindings(&stored.Status, &fresh.Status) &&
		!newImages(stored, fresh) && fresh.Status.ObservedTime.Sub(stored.Status.ObservedTime.Time) < s.opts.RefreshAfter {
		return WriteUnchanged, nil
	}
	res := s.client.Resource(v1alpha1.ImageEvidenceResource)
	merged := Merge(stored, fresh)
	merged.Status.Summary = Summary(&merged.Status)
	if stored == nil {
		if err := s.limiter.Wait(ctx); err != nil {
			return WriteError, err
		}
		obj, err := toUnstructured(merged)
		if err != nil {
			return WriteError, err
		}
		obj.SetResourceVersion("")
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		created, err := res.Create(rctx, obj, metav1.CreateOptions{})
		cancel()
		switch {
		case apierrors.IsAlreadyExists(err):
			return WriteConflict, nil
		case err != nil:
			return WriteError, fmt.Errorf("cannot create ImageEvidence %s: %w", merged.Name, err)
		}
		merged.ResourceVersion = created.GetResourceVersion()
		return s.updateStatus(ctx, merged, WriteCreated)
	}
	if newImages(stored, fresh) {
		if err := s.limiter.Wait(ctx); err != nil {
			return WriteError, err
		}
		obj, err := toUnstructured(merged)
		if err != nil {
			return WriteError, err
		}
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		updated, err := res.Update(rctx, obj, metav1.UpdateOptions{})
		cancel()
		if err != nil {
			return conflictOr(err, "update", merged.Name)
		}
		merged.ResourceVersion = updated.GetResourceVersion()
	}
	return s.updateStatus(ctx, merged, WriteUpdated)
}

// updateStatus writes ie's status (the CRD's status subresource).
func (s *Store) updateStatus(ctx context.Context, ie *v1alpha1.ImageEvidence, outcome string) (string, error) {
	if err := s.limiter.Wait(ctx); err != nil {
		return WriteError, err
	}
	obj, err := toUnstructured(ie)
	if err != nil {
		return WriteError, err
	}
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	if _, err := s.client.Resource(v1alpha1.ImageEvidenceResource).UpdateStatus(rctx, obj, metav1.UpdateOptions{}); err != nil {
		return conflictOr(err, "update the status of", ie.Name)
	}
	return outcome, nil
}

func conflictOr(err error, verb, name string) (string, error) {
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return WriteConflict, nil
	}
	return WriteError, fmt.Errorf("cannot %s ImageEvidence %s: %w", verb, name, err)
}

// MarkRunning moves status.lastSeenRunning of the stored ImageEvidence of
// each digest to now when it is older than every (imageevidence's
// MarkRunning), so that evidence of running images outlives the TTL. It
// returns how many objects it wrote and the first error.
func (s *Store) MarkRunning(ctx context.Context, digests []string, every time.Duration) (int, error) {
	now := s.opts.Now()
	var firstErr error
	n := 0
	for _, d := range digests {
		stored := s.Get(d)
		if stored == nil {
			continue
		}
		ie := stored.DeepCopy()
		if !MarkRunning(ie, now, every) {
			continue
		}
		outcome, err := s.updateStatus(ctx, ie, WriteUpdated)
		s.count(outcome)
		if outcome == WriteUpdated {
			n++
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return n, firstErr
}

// DeleteStale deletes the ImageEvidence objects of digests not in running
// and not seen running for ttl (Stale), each only if unchanged since it
// was read (a precondition on its resourceVersion). It returns how many it
// deleted and the first error.
func (s *Store) DeleteStale(ctx context.Context, running map[string]bool, ttl time.Duration) (int, error) {
	now := s.opts.Now()
	var firstErr error
	n := 0
	for _, ie := range s.List() {
		if running[ie.Spec.Digest] || !Stale(ie, now, ttl) {
			continue
		}
		if err := s.limiter.Wait(ctx); err != nil {
			return n, err
		}
		rv := ie.ResourceVersion
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		err := s.client.Resource(v1alpha1.ImageEvidenceResource).Delete(rctx, ie.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &rv}})
		cancel()
		switch {
		case err == nil:
			n++
			s.count(WriteDeleted)
			s.opts.Logger.Info("deleted the ImageEvidence of an image not seen running", "name", ie.Name, "images", ie.Spec.Images, "ttl", ttl.String())
		case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
			s.count(WriteConflict)
		default:
			s.count(WriteError)
			if firstErr == nil {
				firstErr = fmt.Errorf("cannot delete ImageEvidence %s: %w", ie.Name, err)
			}
		}
	}
	return n, firstErr
}

// sameFindings reports whether two statuses hold the same evidence, times
// and tag answers aside.
func sameFindings(a, b *v1alpha1.ImageEvidenceStatus) bool {
	return reflect.DeepEqual(a.Packages, b.Packages) && a.PackagesOmitted == b.PackagesOmitted &&
		mapsEqual(a.Labels, b.Labels) && a.SBOM == b.SBOM && a.Layers == b.Layers &&
		a.LayersIncomplete == b.LayersIncomplete && a.Scan == b.Scan && a.Unavailable == b.Unavailable &&
		slices.Equal(a.Platforms, b.Platforms) && a.CatalogVersion == b.CatalogVersion
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// newImages reports whether fresh names an image stored does not (and
// stored has room for it).
func newImages(stored, fresh *v1alpha1.ImageEvidence) bool {
	if len(stored.Spec.Images) >= v1alpha1.MaxImages {
		return false
	}
	for _, im := range fresh.Spec.Images {
		if !slices.Contains(stored.Spec.Images, im) {
			return true
		}
	}
	return false
}

func toUnstructured(ie *v1alpha1.ImageEvidence) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ie)
	if err != nil {
		return nil, fmt.Errorf("ImageEvidence %s: %w", ie.Name, err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion(v1alpha1.SchemeGroupVersion.String())
	u.SetKind(v1alpha1.ImageEvidenceKind)
	return u, nil
}
