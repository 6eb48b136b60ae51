package registry

import "container/list"

// maxHosts bounds the per-host state a Source keeps (clients, semaphores):
// images may name any number of hosts, and a pod author writes them.
const maxHosts = 256

// hostLRU keeps at most max values by key, dropping the least recently
// used. It is not safe for concurrent use: its owner locks.
type hostLRU[V any] struct {
	max int
	ll  *list.List // of *hostEntry[V], most recently used first
	m   map[string]*list.Element
}

type hostEntry[V any] struct {
	key string
	v   V
}

func newHostLRU[V any](max int) *hostLRU[V] {
	return &hostLRU[V]{max: max, ll: list.New(), m: make(map[string]*list.Element)}
}

// get returns the value at key and marks it used.
func (l *hostLRU[V]) get(key string) (V, bool) {
	if e, ok := l.m[key]; ok {
		l.ll.MoveToFront(e)
		return e.Value.(*hostEntry[V]).v, true
	}
	var zero V
	return zero, false
}

// add stores v at key, dropping the least recently used beyond the bound.
func (l *hostLRU[V]) add(key string, v V) {
	if e, ok := l.m[key]; ok {
		e.Value.(*hostEntry[V]).v = v
		l.ll.MoveToFront(e)
		return
	}
	l.m[key] = l.ll.PushFront(&hostEntry[V]{key: key, v: v})
	for l.ll.Len() > l.max {
		l.remove(l.ll.Back().Value.(*hostEntry[V]).key)
	}
}

func (l *hostLRU[V]) remove(key string) {
	if e, ok := l.m[key]; ok {
		l.ll.Remove(e)
		delete(l.m, key)
	}
}

func (l *hostLRU[V]) len() int { return l.ll.Len() }
