package auditsink

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tokenguard/tokenguard/pkg/staletoken"
)

// Observation is what a sink knows of one service account's stale tokens:
// the largest "seconds after warning threshold" of its last one to two
// Windows (the gauge's value) and its last stale-token event.
type Observation struct {
	Namespace             string    `json:"namespace"`
	ServiceAccount        string    `json:"serviceAccount"`
	SecondsAfterThreshold int64     `json:"secondsAfterThreshold"`
	LastSeen              time.Time `json:"lastSeen"`
}

// Observations returns the service accounts the sink tracks, the largest
// seconds first.
func (s *Sink) Observations() []Observation {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subjects.expire(now)
	out := make([]Observation, 0, s.subjects.len())
	for e := s.subjects.order.Front(); e != nil; e = e.Next() {
		sub := e.Value.(*subject)
		out = append(out, Observation{
			Namespace: sub.key.namespace, ServiceAccount: sub.key.name,
			SecondsAfterThreshold: max(sub.max.cur, sub.max.prev), LastSeen: sub.lastSeen.UTC(),
		})
	}
	sortObservations(out)
	return out
}

func sortObservations(obs []Observation) {
	slices.SortFunc(obs, func(a, b Observation) int {
		return cmp.Or(cmp.Compare(b.SecondsAfterThreshold, a.SecondsAfterThreshold),
			cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.ServiceAccount, b.ServiceAccount))
	})
}

// Where a sink's observations are published: one ConfigMap per replica,
// in its namespace, labelled LabelPublished, key PublishedKey.
const (
	LabelPublished = "tokenguard.io/stale-tokens"
	PublishedKey   = "observations.json"
	// MaxPublished bounds the observations of one ConfigMap (the largest
	// seconds first): about 120 bytes each, well under the 1 MiB a
	// ConfigMap may hold.
	MaxPublished = 5000
)

// published is the JSON of a published ConfigMap.
type published struct {
	Replica      string        `json:"replica"`
	Updated      time.Time     `json:"updated"`
	Observations []Observation `json:"observations"`
}

// ConfigMapClient is what publishing and reading need of the API
// (kube.Client).
type ConfigMapClient interface {
	GetConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error)
	CreateConfigMap(ctx context.Context, cm *corev1.ConfigMap) (*corev1.ConfigMap, error)
	UpdateConfigMap(ctx context.Context, cm *corev1.ConfigMap) (*corev1.ConfigMap, error)
	ListConfigMaps(ctx context.Context, namespace string, opts metav1.ListOptions) (*corev1.ConfigMapList, error)
	DeleteConfigMap(ctx context.Context, namespace, name, resourceVersion string) error
}

// Publisher writes a sink's observations to the ConfigMap
// tokenguard-stale-tokens-<replica> every Every while they change (and at
// least every Window, so that readers know the replica is alive), for the
// controller to join them into its reports.
type Publisher struct {
	Sink      *Sink
	Client    ConfigMapClient
	Namespace string
	// Replica is this replica's name (its Pod's).
	Replica string
	// Every defaults to 30 s.
	Every time.Duration
	Log   *slog.Logger
}

// PublishedName is the ConfigMap of replica.
func PublishedName(replica string) string {
	name := "tokenguard-stale-tokens-" + replica
	if len(name) > 253 {
		name = name[:253]
	}
	return name
}

// Run publishes until ctx ends.
func (p *Publisher) Run(ctx context.Context) {
	every := cmp.Or(p.Every, 30*time.Second)
	log := p.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var last []Observation
	var lastWrite time.Time
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
		obs := p.Sink.Observations()
		if len(obs) > MaxPublished {
			obs = obs[:MaxPublished]
		}
		now := p.Sink.now()
		if slices.Equal(obs, last) && now.Sub(lastWrite) < Window/2 {
			continue
		}
		if err := p.publish(ctx, obs, now); err != nil {
			if !failing {
				log.Warn("cannot publish the stale-token observations for the controller's reports (RBAC: deploy/components/audit-sink); retrying", "error", err.Error())
			}
			failing = true
			continue
		}
		failing = false
		last, lastWrite = obs, now
	}
}

func (p *Publisher) publish(ctx context.Context, obs []Observation, now time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	data, err := json.Marshal(published{Replica: p.Replica, Updated: now.UTC(), Observations: obs})
	if err != nil {
		return err
	}
	name := PublishedName(p.Replica)
	cm, err := p.Client.GetConfigMap(ctx, p.Namespace, name)
	if apierrors.IsNotFound(err) {
		cm = &corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: p.Namespace, Labels: map[string]string{LabelPublished: "true", "app.kubernetes.io/managed-by": "tokenguard"}},
			Data:       map[string]string{PublishedKey: string(data)},
		}
		_, err = p.Client.CreateConfigMap(ctx, cm)
		return err
	}
	if err != nil {
		return err
	}
	cm.Data = map[string]string{PublishedKey: string(data)}
	_, err = p.Client.UpdateConfigMap(ctx, cm)
	return err
}

// ReadPublished reads the observations every replica published in
// namespace and judges each service account by the largest token age any
// replica saw, carried forward to now (staletoken.Judge). Observations
// last seen more than ttl ago are left out (the sink forgets them after
// its SubjectTTL too); ConfigMaps not updated for ttl (replicas gone) are
// deleted when prune is set. The result is keyed "namespace/name".
func ReadPublished(ctx context.Context, c ConfigMapClient, namespace string, now time.Time, ttl time.Duration, prune bool) (map[string]staletoken.Subject, error) {
	l, err := c.ListConfigMaps(ctx, namespace, metav1.ListOptions{LabelSelector: LabelPublished + "=true"})
	if err != nil {
		return nil, err
	}
	type best struct {
		seconds       int64
		maxAt, lastAt time.Time
		namespace, sa string
	}
	merged := map[string]*best{}
	var problems []error
	for i := range l.Items {
		cm := &l.Items[i]
		var p published
		if err := json.Unmarshal([]byte(cm.Data[PublishedKey]), &p); err != nil {
			problems = append(problems, fmt.Errorf("configmap %s/%s, key %s: %w", namespace, cm.Name, PublishedKey, err))
			continue
		}
		if now.Sub(p.Updated) > ttl {
			if prune {
				_ = c.DeleteConfigMap(ctx, namespace, cm.Name, cm.ResourceVersion)
			}
			continue
		}
		for _, o := range p.Observations {
			if now.Sub(o.LastSeen) > ttl || o.Namespace == "" || o.ServiceAccount == "" {
				continue
			}
			key := o.Namespace + "/" + o.ServiceAccount
			b := merged[key]
			if b == nil {
				b = &best{namespace: o.Namespace, sa: o.ServiceAccount}
				merged[key] = b
			}
			// The oldest token: the largest age carried forward to its
			// sighting.
			if b.maxAt.IsZero() || o.SecondsAfterThreshold+int64(now.Sub(o.LastSeen)/time.Second) > b.seconds+int64(now.Sub(b.maxAt)/time.Second) {
				b.seconds, b.maxAt = o.SecondsAfterThreshold, o.LastSeen
			}
			if o.LastSeen.After(b.lastAt) {
				b.lastAt = o.LastSeen
			}
		}
	}
	out := make(map[string]staletoken.Subject, len(merged))
	for key, b := range merged {
		out[key] = staletoken.Judge("system:serviceaccount:"+b.namespace+":"+b.sa, b.seconds, b.maxAt, b.lastAt, staletoken.Policy{Now: now})
	}
	if len(problems) > 0 {
		return out, fmt.Errorf("stale-token observations not read: %v", problems)
	}
	return out, nil
}
