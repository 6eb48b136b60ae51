package kube

import (
	"context"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

// ListWatch lists and watches with list and watchFn (a Client's ListX and
// WatchX) in every namespace, with fieldSelector, for an informer.
func ListWatch[L runtime.Object](
	list func(context.Context, string, metav1.ListOptions) (L, error),
	watchFn func(context.Context, string, metav1.ListOptions) (watch.Interface, error),
	fieldSelector string,
) *cache.ListWatch {
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = fieldSelector
			l, err := list(ctx, metav1.NamespaceAll, o)
			if err != nil {
				return nil, err // not a typed nil
			}
			return l, nil
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = fieldSelector
			return watchFn(ctx, metav1.NamespaceAll, o)
		},
	}
}

// Informers runs a set of informers together: Add them, Start once,
// WaitForSync, and Shutdown after Start's context ended. The zero value is
// ready.
type Informers struct {
	list []cache.SharedIndexInformer

	mu      sync.Mutex
	started bool
	running sync.WaitGroup
}

// Add adds an informer; call before Start.
func (s *Informers) Add(inf cache.SharedIndexInformer) { s.list = append(s.list, inf) }

// Start starts the informers; they stop when ctx ends (call Shutdown to
// wait for them). Later calls do nothing.
func (s *Informers) Start(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return
	}
	s.started = true
	for _, inf := range s.list {
		s.running.Add(1)
		go func() {
			defer s.running.Done()
			inf.RunWithContext(ctx)
		}()
	}
}

// WaitForSync waits until every informer has listed once, or ctx ends; it
// reports whether they all synced.
func (s *Informers) WaitForSync(ctx context.Context) bool {
	synced := make([]cache.InformerSynced, len(s.list))
	for i, inf := range s.list {
		synced[i] = inf.HasSynced
	}
	return cache.WaitForCacheSync(ctx.Done(), synced...)
}

// Shutdown waits for the informers to stop, after Start's ctx has ended.
func (s *Informers) Shutdown() { s.running.Wait() }
