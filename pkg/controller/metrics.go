package controller

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the controller's Prometheus metrics; the Grafana dashboard of
// deploy/components/monitoring reads them.
type Metrics struct {
	workloads *prometheus.GaugeVec
	writes    *prometheus.CounterVec
	queue     prometheus.Gauge
	leader    prometheus.Gauge
}

// NewMetrics registers the controller's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		workloads: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tokenguard_workloads",
			Help: "Running workloads by namespace and verdict (too-old, unknown, ok, not-applicable), as the controller last judged them: the migration's progress.",
		}, []string{"namespace", "verdict"}),
		writes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tokenguard_controller_writes_total",
			Help: "Writes the controller made to the API server, by object kind (Report, PolicyReport, ImageEvidence) and outcome (created, updated, deleted, unchanged, error); unchanged counts reports whose content did not change, which are not written.",
		}, []string{"kind", "outcome"}),
		queue: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tokenguard_controller_queue_depth",
			Help: "Workloads waiting to be judged again.",
		}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tokenguard_controller_leader",
			Help: "1 while this replica holds the controller's Lease and works, 0 while it stands by.",
		}),
	}
	reg.MustRegister(m.workloads, m.writes, m.queue, m.leader)
	return m
}

// SetWorkloads replaces the workload counts: counts[namespace][verdict].
// Namespaces and verdicts no longer present lose their series.
func (m *Metrics) SetWorkloads(counts map[string]map[string]int) {
	m.workloads.Reset()
	for ns, byVerdict := range counts {
		for v, n := range byVerdict {
			m.workloads.WithLabelValues(ns, v).Set(float64(n))
		}
	}
}

// Write counts one write (or skipped write) of an object kind.
func (m *Metrics) Write(kind, outcome string) { m.writes.WithLabelValues(kind, outcome).Inc() }

// SetQueue sets the work queue's depth.
func (m *Metrics) SetQueue(n int) { m.queue.Set(float64(n)) }

// SetLeader says whether this replica leads.
func (m *Metrics) SetLeader(leading bool) {
	v := 0.0
	if leading {
		v = 1
	}
	m.leader.Set(v)
}
