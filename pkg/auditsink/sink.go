package auditsink

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/tokenguard/tokenguard/pkg/staletoken"
)

// Window is how long a large "seconds after warning threshold" keeps the
// gauge up after its last event: the gauge is the largest value of the
// current and the previous window, so a service account whose pods were
// restarted (fresh tokens) drops to its new tokens' values within one to
// two windows, instead of keeping the old token's age for ever.
const Window = time.Hour

// windowMax is one service account's largest seconds in the current window
// (since start) and in the one before.
type windowMax struct {
	start     time.Time
	cur, prev int64
}

// observe adds seconds at now and returns the largest of the current and
// previous windows.
func (m *windowMax) observe(now time.Time, seconds int64) int64 {
	switch age := now.Sub(m.start); {
	case age >= 2*Window:
		m.start, m.cur, m.prev = now, 0, 0
	case age >= Window:
		m.start, m.cur, m.prev = m.start.Add(Window), 0, m.cur
	}
	m.cur = max(m.cur, seconds)
	return max(m.cur, m.prev)
}

// Sink is the http.Handler of POST /audit.
type Sink struct {
	log  *slog.Logger
	o    Options
	auth authenticator
	now  func() time.Time

	mu sync.Mutex
	// subjects are the service accounts with series.
	subjects *subjects
	// recent holds the audit IDs of recent stale-token requests: the API
	// server sends each logged stage of a request (RequestReceived,
	// ResponseStarted, ResponseComplete) as its own event, all annotated,
	// and resends a whole batch when a delivery fails.
	recent staletoken.RecentIDs

	events   *prometheus.CounterVec
	seconds  *prometheus.GaugeVec
	batches  *prometheus.CounterVec
	rejected prometheus.Counter
}

// New registers the sink's metrics on reg; zero Options fields get their
// defaults. Serve the sink only when o.Authenticated().
func New(reg prometheus.Registerer, log *slog.Logger, o Options) *Sink {
	o = o.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sink{
		log: log, o: o, auth: newAuthenticator(o.tokens()), now: o.now,
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokenguard_stale_token_events_total",
			Help: "Audit events the API server annotated with authentication.k8s.io/stale-token, by service account (at most the sink's subject cap; a service account evicted or silent for the subject TTL loses its series).",
		}, []string{"namespace", "serviceaccount"}),
		seconds: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tokenguard_stale_token_seconds_after_threshold",
			Help: "Largest \"seconds after warning threshold\" of a service account's tokens in its last one to two hours of stale-token events (the oldest token its pods still use); 7776000 - 3607 means the 90-day cutoff of Amazon EKS is reached.",
		}, []string{"namespace", "serviceaccount"}),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokenguard_audit_batches_total",
			Help: "Audit batches received on /audit, by result (ok, malformed, too_large, unauthorized).",
		}, []string{"result"}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tokenguard_audit_malformed_annotations_total",
			Help: "stale-token annotations not counted: unreadable, a name that is not a Kubernetes name, or implausible seconds.",
		}),
	}
	s.subjects = newSubjects(o.MaxSubjects, o.SubjectTTL, func(sub *subject) {
		s.events.DeleteLabelValues(sub.key.namespace, sub.key.name)
		s.seconds.DeleteLabelValues(sub.key.namespace, sub.key.name)
	})
	reg.MustRegister(expiring{s}, s.batches, s.rejected)
	return s
}

// expiring collects the per-service-account series after dropping the
// expired ones, so that /metrics drops them without a new batch.
type expiring struct{ s *Sink }

func (c expiring) Describe(ch chan<- *prometheus.Desc) {
	c.s.events.Describe(ch)
	c.s.seconds.Describe(ch)
}

func (c expiring) Collect(ch chan<- prometheus.Metric) {
	c.s.mu.Lock()
	c.s.subjects.expire(c.s.now())
	c.s.mu.Unlock()
	c.s.events.Collect(ch)
	c.s.seconds.Collect(ch)
}

func (s *Sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.auth.allowed(r) {
		s.batches.WithLabelValues("unauthorized").Inc()
		w.Header().Set("WWW-Authenticate", `Bearer realm="tokenguard-audit"`)
		http.Error(w, "tokenguard: the audit webhook needs a client certificate or a bearer token", http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "tokenguard: the audit webhook takes an EventList by POST", http.StatusMethodNotAllowed)
		return
	}
	var events []annotatedEvent
	err := error(&batchError{Code: http.StatusRequestEntityTooLarge,
		Msg: fmt.Sprintf("tokenguard: audit batch larger than %d bytes", s.o.MaxBodyBytes)})
	if r.ContentLength <= s.o.MaxBodyBytes {
		events, err = readEventList(http.MaxBytesReader(w, r.Body, s.o.MaxBodyBytes), s.o.MaxEvents)
	}
	if be := (*batchError)(nil); errors.As(err, &be) {
		result := "malformed"
		if be.Code == http.StatusRequestEntityTooLarge {
			result = "too_large"
		}
		s.batches.WithLabelValues(result).Inc()
		http.Error(w, be.Msg, be.Code)
		return
	}
	s.batches.WithLabelValues("ok").Inc()
	for _, l := range s.record(events) {
		l.write(s.log)
	}
	w.WriteHeader(http.StatusOK)
}

// logLine is one log line of a batch, written after the lock is released.
type logLine struct {
	ev                 *annotatedEvent
	problem            string // non-empty: the event is malformed
	namespace, account string
	seconds            int64
}

func (l logLine) write(log *slog.Logger) {
	if l.problem != "" {
		log.Warn("audit event with a stale-token annotation tokenguard cannot read; the request is not counted",
			"error", clip(l.problem), "auditID", clip(l.ev.auditID), "stage", clip(l.ev.stage))
		return
	}
	log.Info("stale service-account token in use", "namespace", l.namespace, "serviceAccount", l.account,
		"secondsAfterThreshold", l.seconds, "daysLeft", daysLeft(l.seconds),
		"pod", clip(l.ev.pod), "auditID", clip(l.ev.auditID))
}

// record counts a batch's annotated events and returns their log lines.
func (s *Sink) record(events []annotatedEvent) []logLine {
	lines := make([]logLine, 0, len(events))
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subjects.expire(now)
	for i := range events {
		ev := &events[i]
		ns, sa, seconds, problem := readAnnotation(ev.value)
		if problem != "" {
			s.rejected.Inc()
			lines = append(lines, logLine{ev: ev, problem: problem})
			continue
		}
		dup := s.recent.Seen(ev.auditID)
		sub := s.subjects.touch(subjectKey{ns, sa}, now)
		ns, sa = sub.key.namespace, sub.key.name
		s.seconds.WithLabelValues(ns, sa).Set(float64(sub.max.observe(now, seconds)))
		if dup {
			continue // another stage of a request already counted
		}
		s.events.WithLabelValues(ns, sa).Inc()
		lines = append(lines, logLine{ev: ev, namespace: ns, account: sa, seconds: seconds})
	}
	return lines
}

// readAnnotation reads a stale-token annotation's service account and
// seconds, or says why they cannot be counted: names that are not a
// namespace (DNS-1123 label) and a service-account name (DNS-1123
// subdomain) never become label values, seconds above MaxSeconds never a
// gauge value.
func readAnnotation(value string) (namespace, account string, seconds int64, problem string) {
	subject, seconds, err := staletoken.ParseAnnotation(value)
	if err != nil {
		return "", "", 0, err.Error()
	}
	namespace, account, _ = staletoken.SplitSubject(subject)
	switch {
	case len(namespace) > validation.DNS1123LabelMaxLength || len(validation.IsDNS1123Label(namespace)) > 0:
		return "", "", 0, fmt.Sprintf("namespace %s (%d bytes) is not a Kubernetes namespace name", quoteClip(namespace), len(namespace))
	case len(account) > validation.DNS1123SubdomainMaxLength || len(validation.IsDNS1123Subdomain(account)) > 0:
		return "", "", 0, fmt.Sprintf("service account %s (%d bytes) is not a Kubernetes name", quoteClip(account), len(account))
	case seconds > MaxSeconds:
		return "", "", 0, fmt.Sprintf("seconds after warning threshold %d is implausible (more than %d, ten years)", seconds, MaxSeconds)
	}
	return namespace, account, seconds, ""
}

// daysLeft is the whole days before a token that is seconds past its
// warning threshold reaches the 90-day cutoff of Amazon EKS (negative once
// past it, rounded down).
func daysLeft(seconds int64) int64 {
	left := int64(staletoken.DefaultMaxTokenAge/time.Second) - staletoken.WarnAfterSeconds - seconds
	d := left / 86400
	if left%86400 != 0 && left < 0 {
		d--
	}
	return d
}

// maxLogValue caps strings from a batch in log lines.
const maxLogValue = 256

// clip cuts s to maxLogValue bytes, saying how long it was.
func clip(s string) string {
	if len(s) <= maxLogValue {
		return s
	}
	return fmt.Sprintf("%s… (%d bytes)", s[:maxLogValue], len(s))
}

func quoteClip(s string) string {
	if len(s) <= maxLogValue {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q…", s[:maxLogValue])
}
