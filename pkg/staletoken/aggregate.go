package staletoken

import (
	"math"
	"sort"
	"time"
)

// Defaults of Policy and Aggregator.
const (
	// DefaultMaxTokenAge is the age at which Amazon EKS rejects a pod-bound
	// token: 90 days (7,776,000 s).
	DefaultMaxTokenAge = 7776000 * time.Second
	// DefaultWarnWithin is how close to the cutoff a subject is expiring.
	DefaultWarnWithin = 14 * 24 * time.Hour
	// DefaultMaxPods is how many distinct pod names a Subject lists.
	DefaultMaxPods = 10
	// maxPodsCounted bounds the distinct pod names counted per subject;
	// beyond it MorePods is a lower bound.
	maxPodsCounted = 1000
)

// Status says how urgent a subject is.
type Status string

const (
	// StatusRejected: the token is at or past the cutoff; requests made
	// with it are rejected.
	StatusRejected Status = "rejected"
	// StatusExpiring: less than Policy.WarnWithin is left.
	StatusExpiring Status = "expiring"
	// StatusStale: the token is past its warning threshold, with time left.
	StatusStale Status = "stale"
)

func (s Status) rank() int {
	switch s {
	case StatusRejected:
		return 0
	case StatusExpiring:
		return 1
	}
	return 2
}

// Policy is how a subject is judged.
type Policy struct {
	// MaxTokenAge is the cutoff; zero means DefaultMaxTokenAge.
	MaxTokenAge time.Duration
	// WarnWithin marks a subject expiring when less than this is left;
	// zero means DefaultWarnWithin. Negative means never.
	WarnWithin time.Duration
	// Now, when set, measures time left as of Now instead of each
	// subject's last-seen event.
	Now time.Time
}

// Subject is what the logs say about one service account.
type Subject struct {
	Subject        string `json:"subject"`
	Namespace      string `json:"namespace"`
	ServiceAccount string `json:"serviceAccount"`
	Status         Status `json:"status"`
	// Events counts stale-token requests: the stages of one request (same
	// auditID) count once.
	Events    int64     `json:"events"`
	FirstSeen time.Time `json:"firstSeen"`
	LastSeen  time.Time `json:"lastSeen"`
	// MaxSecondsAfterThreshold is the largest "seconds after warning
	// threshold" seen; MaxSeenAt the (latest) time of an event carrying it.
	MaxSecondsAfterThreshold int64     `json:"maxSecondsAfterThreshold"`
	MaxSeenAt                time.Time `json:"maxSeenAt"`
	// AsOf is when the age and time left are measured: LastSeen, or
	// Policy.Now.
	AsOf time.Time `json:"asOf"`
	// TokenAgeSeconds = MaxSecondsAfterThreshold + 3607 + (AsOf - MaxSeenAt):
	// the age of the oldest token seen, carried forward to AsOf.
	TokenAgeSeconds int64 `json:"tokenAgeSeconds"`
	// SecondsLeft = MaxTokenAge - TokenAgeSeconds (negative once past).
	SecondsLeft int64 `json:"secondsLeft"`
	// DaysLeft = floor(SecondsLeft / 86400).
	DaysLeft int64 `json:"daysLeft"`
	// Pods are the lexically smallest DefaultMaxPods distinct pod names,
	// sorted; MorePods counts the other distinct names.
	Pods     []string `json:"pods"`
	MorePods int      `json:"morePods"`
}

// subjectAgg accumulates one subject's events.
type subjectAgg struct {
	events      int64
	first, last time.Time
	maxSeconds  int64
	maxAt       time.Time
	pods        []string // sorted, at most maxPods
	seen        map[uint64]struct{}
}

func (s *subjectAgg) add(t time.Time, seconds int64, pods []string, maxPods int) {
	if s.events == 0 || t.Before(s.first) {
		s.first = t
	}
	if s.events == 0 || t.After(s.last) {
		s.last = t
	}
	if s.events == 0 || seconds > s.maxSeconds || (seconds == s.maxSeconds && t.After(s.maxAt)) {
		s.maxSeconds, s.maxAt = seconds, t
	}
	s.events++
	for _, p := range pods {
		s.addPod(p, maxPods)
	}
}

// touch records another stage of a request already counted: its time and
// pods, not a further event.
func (s *subjectAgg) touch(t time.Time, seconds int64, pods []string, maxPods int) {
	if t.Before(s.first) {
		s.first = t
	}
	if t.After(s.last) {
		s.last = t
	}
	if seconds > s.maxSeconds || (seconds == s.maxSeconds && t.After(s.maxAt)) {
		s.maxSeconds, s.maxAt = seconds, t
	}
	for _, p := range pods {
		s.addPod(p, maxPods)
	}
}

func (s *subjectAgg) addPod(name string, maxPods int) {
	key := fnv64a(name)
	if _, dup := s.seen[key]; dup || len(s.seen) >= maxPodsCounted {
		return
	}
	if s.seen == nil {
		s.seen = make(map[uint64]struct{})
	}
	s.seen[key] = struct{}{}
	i := sort.SearchStrings(s.pods, name)
	if i >= maxPods {
		return
	}
	if len(s.pods) < maxPods {
		s.pods = append(s.pods, "")
	}
	copy(s.pods[i+1:], s.pods[i:])
	s.pods[i] = name
}

// judge turns an aggregate into a Subject under p.
//
// The age of a token at an event is its seconds after the warning threshold
// plus 3607 (warnafter = issue time + 3607 s). The subject's age is that of
// the event with the largest value, carried forward to the reference time:
//
//	tokenAge    = maxSeconds + 3607 + (asOf - maxSeenAt)
//	secondsLeft = maxTokenAge - tokenAge
//	daysLeft    = floor(secondsLeft / 86400)
//
// where asOf is p.Now, or else the subject's last-seen event: the logs are
// history, so the clock is never read. For a token in continuous use the
// largest value is on the last event and tokenAge = maxSeconds + 3607.
// rejected when secondsLeft <= 0; expiring when secondsLeft < warnWithin;
// else stale.
func (s *subjectAgg) judge(subject string, p Policy) Subject {
	maxAge := p.MaxTokenAge
	if maxAge == 0 {
		maxAge = DefaultMaxTokenAge
	}
	warn := p.WarnWithin
	if warn == 0 {
		warn = DefaultWarnWithin
	}
	asOf := s.last
	if !p.Now.IsZero() {
		asOf = p.Now.UTC()
	}
	age := satAdd(satAdd(s.maxSeconds, WarnAfterSeconds), int64(asOf.Sub(s.maxAt)/time.Second))
	left := satAdd(int64(maxAge/time.Second), -age)
	status := StatusStale
	switch {
	case left <= 0:
		status = StatusRejected
	case left < int64(warn/time.Second):
		status = StatusExpiring
	}
	ns, sa, _ := SplitSubject(subject)
	pods := append([]string{}, s.pods...)
	return Subject{
		Subject: subject, Namespace: ns, ServiceAccount: sa, Status: status,
		Events: s.events, FirstSeen: s.first, LastSeen: s.last,
		MaxSecondsAfterThreshold: s.maxSeconds, MaxSeenAt: s.maxAt, AsOf: asOf,
		TokenAgeSeconds: age, SecondsLeft: left, DaysLeft: floorDiv(left, 86400),
		Pods: pods, MorePods: len(s.seen) - len(pods),
	}
}

// Judge judges one subject known only by its largest "seconds after
// warning threshold", the time an event carried it and the subject's last
// event (what an audit sink keeps per service account), under p, as Result
// judges a subject of the logs.
func Judge(subject string, maxSeconds int64, maxSeenAt, lastSeen time.Time, p Policy) Subject {
	s := &subjectAgg{first: lastSeen, last: lastSeen, maxSeconds: maxSeconds, maxAt: maxSeenAt}
	return s.judge(subject, p)
}

// Result judges every subject read so far under p, most urgent first:
// rejected, then expiring, then stale; within each the least time left
// first; ties by subject.
func (a *Aggregator) Result(p Policy) []Subject {
	out := make([]Subject, 0, len(a.subjects))
	for name, s := range a.subjects {
		out = append(out, s.judge(name, p))
	}
	sort.Slice(out, func(i, j int) bool {
		x, y := &out[i], &out[j]
		if x.Status.rank() != y.Status.rank() {
			return x.Status.rank() < y.Status.rank()
		}
		if x.SecondsLeft != y.SecondsLeft {
			return x.SecondsLeft < y.SecondsLeft
		}
		return x.Subject < y.Subject
	})
	return out
}

func satAdd(a, b int64) int64 {
	s := a + b
	switch {
	case a > 0 && b > 0 && s < 0:
		return math.MaxInt64
	case a < 0 && b < 0 && s >= 0:
		return math.MinInt64
	}
	return s
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// fnv64a hashes a pod name (FNV-1a) without allocating.
func fnv64a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
