package auditsink

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tokenguard/tokenguard/pkg/staletoken"
)

// MaxBatchBytes caps one audit batch. The API server's webhook backend sends
// at most --audit-webhook-batch-max-size events (400 by default); a batch of
// Metadata-level events is far below this.
const MaxBatchBytes = 32 << 20

// DefaultMaxSubjects caps the service accounts that get their own label
// values; the rest are counted under namespace and serviceaccount "other".
const DefaultMaxSubjects = 1000

// other is the label value of service accounts past the cap.
const other = "other"

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
	log         *slog.Logger
	maxSubjects int

	mu  sync.Mutex
	now func() time.Time
	// max holds, per tracked service account ("ns/sa" or "other/other"),
	// the largest seconds after threshold of the last one to two Windows.
	max map[string]*windowMax
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

// New registers the sink's metrics on reg. maxSubjects <= 0 means
// DefaultMaxSubjects.
func New(reg prometheus.Registerer, log *slog.Logger, maxSubjects int) *Sink {
	if maxSubjects <= 0 {
		maxSubjects = DefaultMaxSubjects
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sink{
		log: log, maxSubjects: maxSubjects, max: map[string]*windowMax{}, now: time.Now,
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokenguard_stale_token_events_total",
			Help: "Audit events the API server annotated with authentication.k8s.io/stale-token, by service account (namespace/serviceaccount \"other\" past the cardinality cap).",
		}, []string{"namespace", "serviceaccount"}),
		seconds: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tokenguard_stale_token_seconds_after_threshold",
			Help: "Largest \"seconds after warning threshold\" of a service account's tokens in its last one to two hours of stale-token events (the oldest token its pods still use); 7776000 - 3607 means the 90-day cutoff of Amazon EKS is reached.",
		}, []string{"namespace", "serviceaccount"}),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokenguard_audit_batches_total",
			Help: "Audit batches received on /audit, by result (ok, malformed).",
		}, []string{"result"}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tokenguard_audit_malformed_annotations_total",
			Help: "stale-token annotations whose value could not be read.",
		}),
	}
	reg.MustRegister(s.events, s.seconds, s.batches, s.rejected)
	return s
}

// eventList is the part of an audit.k8s.io/v1 EventList the sink reads.
type eventList struct {
	Kind  string `json:"kind"`
	Items []struct {
		AuditID     string            `json:"auditID"`
		Stage       string            `json:"stage"`
		Annotations map[string]string `json:"annotations"`
		User        struct {
			Extra map[string][]string `json:"extra"`
		} `json:"user"`
	} `json:"items"`
}

func (s *Sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "tokenguard: the audit webhook takes an EventList by POST", http.StatusMethodNotAllowed)
		return
	}
	var list eventList
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBatchBytes)).Decode(&list)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		s.batches.WithLabelValues("malformed").Inc()
		http.Error(w, "tokenguard: audit batch larger than 32 MiB", http.StatusRequestEntityTooLarge)
		return
	case err != nil && !errors.Is(err, io.EOF), list.Kind != "" && list.Kind != "EventList":
		s.batches.WithLabelValues("malformed").Inc()
		msg := "expected an audit.k8s.io/v1 EventList"
		if err != nil {
			msg += ": " + err.Error()
		}
		http.Error(w, "tokenguard: "+msg, http.StatusBadRequest)
		return
	}
	s.batches.WithLabelValues("ok").Inc()
	for i := range list.Items {
		ev := &list.Items[i]
		value, ok := ev.Annotations[staletoken.AnnotationKey]
		if !ok {
			continue
		}
		subject, seconds, err := staletoken.ParseAnnotation(value)
		if err != nil {
			s.rejected.Inc()
			s.log.Warn("audit event with a stale-token annotation tokenguard cannot read; the request is not counted",
				"error", err.Error(), "auditID", ev.AuditID, "stage", ev.Stage)
			continue
		}
		ns, sa, _ := staletoken.SplitSubject(subject)
		lns, lsa, max, dup := s.observe(ns, sa, seconds, ev.AuditID)
		s.seconds.WithLabelValues(lns, lsa).Set(float64(max))
		if dup {
			continue // another stage of a request already counted
		}
		s.events.WithLabelValues(lns, lsa).Inc()
		s.log.Info("stale service-account token in use", "namespace", ns, "serviceAccount", sa,
			"secondsAfterThreshold", seconds, "daysLeft", daysLeft(seconds),
			"pod", first(ev.User.Extra[staletoken.PodNameExtraKey]), "auditID", ev.AuditID)
	}
	w.WriteHeader(http.StatusOK)
}

// observe records seconds for a service account and returns its label
// values ("other" past the cap), the largest seconds of their last one to
// two Windows, and
// whether auditID was seen recently (another stage of the same request).
func (s *Sink) observe(ns, sa string, seconds int64, auditID string) (string, string, int64, bool) {
	key := ns + "/" + sa
	s.mu.Lock()
	defer s.mu.Unlock()
	dup := s.recent.Seen(auditID)
	if _, ok := s.max[key]; !ok && len(s.max) >= s.maxSubjects {
		ns, sa, key = other, other, other+"/"+other
	}
	m := s.max[key]
	if m == nil {
		m = &windowMax{start: s.now()}
		s.max[key] = m
	}
	return ns, sa, m.observe(s.now(), seconds), dup
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

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
