package auditsink

import "time"

// Defaults of Options.
const (
	// DefaultMaxBodyBytes caps one batch. The API server sends at most
	// --audit-webhook-batch-max-size events a batch (400 by default); a
	// Metadata-level event is 1 to 3 KB (user, groups, extra, objectRef,
	// source IPs, user agent, annotations), so a full batch is about 1 MB
	// and 8 MiB leaves room for long user agents and extras. Request-level
	// policies need --audit-webhook-truncate-enabled with a
	// --audit-webhook-truncate-max-batch-size below this.
	DefaultMaxBodyBytes = 8 << 20
	// DefaultMaxEvents caps the events of one batch, 2.5 times the API
	// server's default --audit-webhook-batch-max-size.
	DefaultMaxEvents = 1000
	// DefaultMaxSubjects caps the service accounts that have series.
	DefaultMaxSubjects = 1000
	// DefaultSubjectTTL is how long a service account keeps its series
	// without a stale-token event.
	DefaultSubjectTTL = 3 * time.Hour
	// MinSubjectTTL is the shortest SubjectTTL: the gauge holds a value for
	// one to two Windows, so a series must outlive two.
	MinSubjectTTL = 2 * Window
)

// MaxSeconds is the largest plausible "seconds after warning threshold":
// ten years. The API server's values stay below the longest token lifetime
// it issues (EKS: 90 days); a larger one is malformed, never a gauge value.
const MaxSeconds = 10 * 365 * 86400

// Options configure a Sink. The zero value has the defaults and no
// authentication (every batch is a 401).
type Options struct {
	// MaxBodyBytes caps a batch's body; larger is a 413.
	// Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxEvents caps the events of one batch; more is a 413.
	// Zero means DefaultMaxEvents.
	MaxEvents int
	// MaxSubjects caps the service accounts with series; past it, the one
	// seen least recently loses its series to the new one.
	// Zero means DefaultMaxSubjects.
	MaxSubjects int
	// SubjectTTL is how long a service account without stale-token events
	// keeps its series. Zero means DefaultSubjectTTL; values below
	// MinSubjectTTL are raised to it.
	SubjectTTL time.Duration
	// BearerTokens are the accepted "Authorization: Bearer" tokens (the
	// token of the API server's audit-webhook kubeconfig). Empty strings
	// are ignored.
	BearerTokens []string
	// ClientCertificates states that the listener verifies client
	// certificates (its tls.Config comes from ClientAuthTLS). The sink
	// accepts a request whose connection has a verified chain whatever this
	// says; it only feeds Authenticated.
	ClientCertificates bool

	now func() time.Time // tests
}

// Authenticated reports whether the options authenticate anyone: a
// listener verifying client certificates or at least one bearer token.
// Without it, the sink must not be served.
func (o Options) Authenticated() bool {
	return o.ClientCertificates || len(o.tokens()) > 0
}

// tokens returns the non-empty BearerTokens.
func (o Options) tokens() []string {
	var ts []string
	for _, t := range o.BearerTokens {
		if t != "" {
			ts = append(ts, t)
		}
	}
	return ts
}

// withDefaults returns o with its zero values defaulted.
func (o Options) withDefaults() Options {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxEvents <= 0 {
		o.MaxEvents = DefaultMaxEvents
	}
	if o.MaxSubjects <= 0 {
		o.MaxSubjects = DefaultMaxSubjects
	}
	switch {
	case o.SubjectTTL <= 0:
		o.SubjectTTL = DefaultSubjectTTL
	case o.SubjectTTL < MinSubjectTTL:
		o.SubjectTTL = MinSubjectTTL
	}
	if o.now == nil {
		o.now = time.Now
	}
	return o
}
