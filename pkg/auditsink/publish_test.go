package auditsink

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tokenguard/tokenguard/pkg/staletoken"
)

// memConfigMaps is the ConfigMaps of one namespace, in memory.
type memConfigMaps struct {
	mu      sync.Mutex
	items   map[string]corev1.ConfigMap
	rv      int
	writes  int
	deleted []string
}

var cmResource = schema.GroupResource{Resource: "configmaps"}

func (m *memConfigMaps) GetConfigMap(_ context.Context, _, name string) (*corev1.ConfigMap, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cm, ok := m.items[name]
	if !ok {
		return nil, apierrors.NewNotFound(cmResource, name)
	}
	return cm.DeepCopy(), nil
}

func (m *memConfigMaps) put(cm *corev1.ConfigMap) *corev1.ConfigMap {
	if m.items == nil {
		m.items = map[string]corev1.ConfigMap{}
	}
	m.rv++
	m.writes++
	cm = cm.DeepCopy()
	cm.ResourceVersion = strings.Repeat("1", m.rv)
	m.items[cm.Name] = *cm
	return cm
}

func (m *memConfigMaps) CreateConfigMap(_ context.Context, cm *corev1.ConfigMap) (*corev1.ConfigMap, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.items[cm.Name]; ok {
		return nil, apierrors.NewAlreadyExists(cmResource, cm.Name)
	}
	return m.put(cm), nil
}

func (m *memConfigMaps) UpdateConfigMap(_ context.Context, cm *corev1.ConfigMap) (*corev1.ConfigMap, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.put(cm), nil
}

func (m *memConfigMaps) ListConfigMaps(_ context.Context, _ string, opts metav1.ListOptions) (*corev1.ConfigMapList, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := &corev1.ConfigMapList{}
	for _, cm := range m.items {
		if opts.LabelSelector == LabelPublished+"=true" && cm.Labels[LabelPublished] != "true" {
			continue
		}
		l.Items = append(l.Items, *cm.DeepCopy())
	}
	return l, nil
}

func (m *memConfigMaps) DeleteConfigMap(_ context.Context, _, name, _ string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.items, name)
	m.deleted = append(m.deleted, name)
	return nil
}

// TestPublishAndRead: two replicas' sinks see different stale tokens of
// one service account; each publishes its ConfigMap, writing again only
// when its observations change; the reader judges the account by the
// oldest token either saw, leaves out a replica gone silent and deletes
// its ConfigMap, and names the file of a ConfigMap it cannot read.
func TestPublishAndRead(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	a := newSink(nil, nil, Options{now: clock})
	b := newSink(nil, nil, Options{now: clock})
	// 80 days after the threshold: 10 days minus 3607 s left.
	post(a, batch(event("shop", "api", 80*86400, "api-1")))
	post(b, batch(event("shop", "api", 10*86400, "api-2"), event("batch", "worker", 86400, "w-1")))

	cms := &memConfigMaps{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, p := range []*Publisher{
		{Sink: a, Client: cms, Namespace: "tokenguard-system", Replica: "tokenguard-a", Every: 5 * time.Millisecond},
		{Sink: b, Client: cms, Namespace: "tokenguard-system", Replica: "tokenguard-b", Every: 5 * time.Millisecond},
	} {
		go p.Run(ctx)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		cms.mu.Lock()
		n := len(cms.items)
		cms.mu.Unlock()
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the replicas did not publish")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	cms.mu.Lock()
	writes := cms.writes
	cms.mu.Unlock()
	if writes != 2 {
		t.Errorf("%d writes for unchanged observations, want one per replica", writes)
	}
	cancel()

	got, err := ReadPublished(context.Background(), cms, "tokenguard-system", now.Add(time.Hour), 3*time.Hour, true)
	if err != nil {
		t.Fatal(err)
	}
	api := got["shop/api"]
	// The oldest token (replica a's), an hour later: 10 days - 3607 s - 1 h.
	if api.Status != staletoken.StatusExpiring || api.DaysLeft != 9 || api.Subject != "system:serviceaccount:shop:api" {
		t.Errorf("shop/api = %+v, want expiring with 9 days left", api)
	}
	if w := got["batch/worker"]; w.Status != staletoken.StatusStale || w.DaysLeft != 88 {
		t.Errorf("batch/worker = %+v, want stale with 88 days left", w)
	}

	// Replica b gone silent past the TTL: its observations are left out
	// and its ConfigMap deleted; a ConfigMap that is not JSON is named.
	cms.mu.Lock()
	stale := cms.items[PublishedName("tokenguard-b")]
	var p published
	_ = json.Unmarshal([]byte(stale.Data[PublishedKey]), &p)
	p.Updated = now.Add(-4 * time.Hour)
	data, _ := json.Marshal(p)
	stale.Data[PublishedKey] = string(data)
	cms.items[stale.Name] = stale
	cms.items["tokenguard-stale-tokens-broken"] = corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "tokenguard-stale-tokens-broken", Labels: map[string]string{LabelPublished: "true"}}, Data: map[string]string{PublishedKey: "{not json"}}
	cms.mu.Unlock()
	got, err = ReadPublished(context.Background(), cms, "tokenguard-system", now, 3*time.Hour, true)
	if err == nil || !strings.Contains(err.Error(), "tokenguard-stale-tokens-broken") || !strings.Contains(err.Error(), PublishedKey) {
		t.Errorf("error %v, want the broken ConfigMap and key named", err)
	}
	if _, ok := got["batch/worker"]; ok || got["shop/api"].DaysLeft != 9 {
		t.Errorf("after replica b went silent: %+v", got)
	}
	if len(cms.deleted) != 1 || cms.deleted[0] != PublishedName("tokenguard-b") {
		t.Errorf("deleted %q, want replica b's ConfigMap", cms.deleted)
	}
}
