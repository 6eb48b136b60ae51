package auditsink

import (
	"container/list"
	"strings"
	"time"
)

// subjectKey is a service account.
type subjectKey struct{ namespace, name string }

// subject is a tracked service account: it has series until it is evicted
// or expires.
type subject struct {
	key      subjectKey
	lastSeen time.Time
	// max is the largest seconds after threshold of the last one to two
	// Windows.
	max windowMax
}

// subjects is an LRU of at most max service accounts, each dropped once
// not seen for ttl. Not safe for concurrent use.
type subjects struct {
	max int
	ttl time.Duration
	// drop is called with every subject evicted or expired.
	drop func(*subject)

	order *list.List // of *subject, most recently seen first
	byKey map[subjectKey]*list.Element
}

func newSubjects(max int, ttl time.Duration, drop func(*subject)) *subjects {
	return &subjects{max: max, ttl: ttl, drop: drop, order: list.New(), byKey: map[subjectKey]*list.Element{}}
}

// touch returns k's subject, marked seen at now; a new one evicts the
// subject seen least recently when the LRU is full.
func (s *subjects) touch(k subjectKey, now time.Time) *subject {
	if e, ok := s.byKey[k]; ok {
		s.order.MoveToFront(e)
		sub := e.Value.(*subject)
		sub.lastSeen = now
		return sub
	}
	for s.order.Len() >= s.max {
		s.remove(s.order.Back())
	}
	// Copies: the names are substrings of an annotation value, which the
	// series would otherwise keep alive.
	k = subjectKey{strings.Clone(k.namespace), strings.Clone(k.name)}
	sub := &subject{key: k, lastSeen: now, max: windowMax{start: now}}
	s.byKey[k] = s.order.PushFront(sub)
	return sub
}

// expire drops the subjects not seen for ttl.
func (s *subjects) expire(now time.Time) {
	for e := s.order.Back(); e != nil && now.Sub(e.Value.(*subject).lastSeen) >= s.ttl; e = s.order.Back() {
		s.remove(e)
	}
}

func (s *subjects) remove(e *list.Element) {
	sub := s.order.Remove(e).(*subject)
	delete(s.byKey, sub.key)
	s.drop(sub)
}

func (s *subjects) len() int { return s.order.Len() }
