package admission

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tokenguard/tokenguard/pkg/engine"
	"github.com/tokenguard/tokenguard/pkg/policy"
)

// Metrics are tokenguard's own admission metrics (kubewebhook's recorder
// adds its review-duration histograms beside them).
type Metrics struct {
	decisions  *prometheus.CounterVec
	findings   *prometheus.CounterVec
	evidence   *prometheus.CounterVec
	exemptions *prometheus.CounterVec
	skipped    *prometheus.CounterVec
	latency    *prometheus.HistogramVec
}

// NewMetrics registers tokenguard's admission metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokenguard_admission_decisions_total",
			Help: "Judged admission requests by mode, worst verdict, object kind and decision (allowed, warned, denied).",
		}, []string{"mode", "verdict", "kind", "decision"}),
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokenguard_admission_findings_total",
			Help: "Findings of judged requests by mode, component (catalog rule id, or client-sdk when no SDK was seen) and verdict.",
		}, []string{"mode", "component", "verdict"}),
		evidence: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokenguard_admission_evidence_total",
			Help: "Findings by the source of their evidence (tag, label:<key>, sbom:..., pod-spec, none).",
		}, []string{"source"}),
		exemptions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokenguard_admission_exemptions_total",
			Help: "Findings exempted by the configuration, by mode and by what exempted them (namespace, service-account, image, component).",
		}, []string{"mode", "by"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokenguard_admission_skipped_total",
			Help: "Requests allowed without judging, by mode and reason (operation, subresource, kind, unchanged-policy-inputs: an UPDATE that changes nothing the policy reads, undecodable).",
		}, []string{"mode", "reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tokenguard_admission_request_duration_seconds",
			Help:    "Time to answer an admission request, by mode.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"mode"}),
	}
	reg.MustRegister(m.decisions, m.findings, m.evidence, m.exemptions, m.skipped, m.latency)
	return m
}

func (m *Metrics) judged(mode Mode, kind string, d *engine.Decision, findings []policy.Finding) {
	if m == nil {
		return
	}
	decision := "allowed"
	switch {
	case !d.Allowed:
		decision = "denied"
	case len(d.Warn) > 0:
		decision = "warned"
	}
	m.decisions.WithLabelValues(string(mode), string(d.Verdict), kind, decision).Inc()
	for i := range findings {
		f := &findings[i]
		component := f.Component
		if component == "" {
			component = "client-sdk"
		}
		m.findings.WithLabelValues(string(mode), component, string(f.Verdict)).Inc()
		source := f.Source
		if len(source) > 64 {
			source = source[:64]
		}
		m.evidence.WithLabelValues(source).Inc()
	}
}

// exempted counts what one evaluation exempted: the whole subject (by
// namespace or service account), or findings one by one.
func (m *Metrics) exempted(mode Mode, e *engine.Exemption) {
	if m == nil {
		return
	}
	if e.Whole != "" {
		m.exemptions.WithLabelValues(string(mode), e.By).Inc()
	}
	if e.Images > 0 {
		m.exemptions.WithLabelValues(string(mode), "image").Add(float64(e.Images))
	}
	if e.Components > 0 {
		m.exemptions.WithLabelValues(string(mode), "component").Add(float64(e.Components))
	}
}

func (m *Metrics) skip(mode Mode, reason string) {
	if m != nil {
		m.skipped.WithLabelValues(string(mode), reason).Inc()
	}
}

func (m *Metrics) observe(mode Mode, seconds float64) {
	if m != nil {
		m.latency.WithLabelValues(string(mode)).Observe(seconds)
	}
}
