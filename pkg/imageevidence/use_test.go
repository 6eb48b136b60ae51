package imageevidence

import (
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tokenguard/tokenguard/pkg/apis/tokenguard/v1alpha1"
	"github.com/tokenguard/tokenguard/pkg/policy"
)

func timeAt(t time.Time) *metav1.Time {
	mt := metav1.NewTime(t)
	return &mt
}

func TestStale(t *testing.T) {
	day := 24 * time.Hour
	created := metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(now.Add(-30 * day))}
	tests := []struct {
		name  string
		ie    *v1alpha1.ImageEvidence
		ttl   time.Duration
		stale bool
	}{
		{"seen an hour ago", &v1alpha1.ImageEvidence{Status: v1alpha1.ImageEvidenceStatus{LastSeenRunning: timeAt(now.Add(-time.Hour))}}, 0, false},
		{"seen 7 days ago to the second", &v1alpha1.ImageEvidence{Status: v1alpha1.ImageEvidenceStatus{LastSeenRunning: timeAt(now.Add(-7 * day))}}, 0, false},
		{"seen 7 days and a second ago", &v1alpha1.ImageEvidence{Status: v1alpha1.ImageEvidenceStatus{LastSeenRunning: timeAt(now.Add(-7*day - time.Second))}}, 0, true},
		{"shorter TTL", &v1alpha1.ImageEvidence{Status: v1alpha1.ImageEvidenceStatus{LastSeenRunning: timeAt(now.Add(-2 * day))}}, day, true},
		{"last seen wins over observed", &v1alpha1.ImageEvidence{ObjectMeta: created, Status: v1alpha1.ImageEvidenceStatus{
			ObservedTime: timeAt(now.Add(-20 * day)), LastSeenRunning: timeAt(now.Add(-day))}}, 0, false},
		{"observed time without last seen", &v1alpha1.ImageEvidence{Status: v1alpha1.ImageEvidenceStatus{ObservedTime: timeAt(now.Add(-8 * day))}}, 0, true},
		{"creation without status", &v1alpha1.ImageEvidence{ObjectMeta: created}, 0, true},
		{"recent creation without status", &v1alpha1.ImageEvidence{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(now)}}, 0, false},
		{"no time at all", &v1alpha1.ImageEvidence{}, 0, true},
		{"nil", nil, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Stale(tt.ie, now, tt.ttl); got != tt.stale {
				t.Errorf("Stale = %v, want %v", got, tt.stale)
			}
		})
	}
}

func TestCurrentAndFinal(t *testing.T) {
	cat := defaultCatalog(t)
	doc := strings.Replace(string(policy.DefaultCatalogYAML()), "\nversion: \""+cat.Version()+"\"", "\nversion: \"2099.1.1\"", 1)
	configured, err := policy.LoadCatalog([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if configured.Version() == cat.Version() {
		t.Fatalf("a configured catalog has the default's version %s", cat.Version())
	}
	ok := FromEvidence(digestA, &policy.Evidence{SBOM: "sbom:spdx-referrer"}, cat, now)
	tests := []struct {
		name           string
		ie             *v1alpha1.ImageEvidence
		cat            *policy.Catalog
		current, final bool
	}{
		{"complete", ok, cat, true, true},
		{"another catalog version", ok, configured, false, false},
		{"unavailable", FromEvidence(digestA, &policy.Evidence{Unavailable: "registry timed out after 2s"}, cat, now), cat, true, false},
		{"incomplete scan", FromEvidence(digestA, &policy.Evidence{LayersIncomplete: "the scan of its files is under way"}, cat, now), cat, true, false},
		{"no status yet", &v1alpha1.ImageEvidence{Spec: v1alpha1.ImageEvidenceSpec{Digest: digestA}}, cat, false, false},
		{"nil", nil, cat, false, false},
		{"nil catalog", ok, nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Current(tt.ie, tt.cat); got != tt.current {
				t.Errorf("Current = %v, want %v", got, tt.current)
			}
			if got := Final(tt.ie, tt.cat); got != tt.final {
				t.Errorf("Final = %v, want %v", got, tt.final)
			}
		})
	}
}

func TestMarkRunning(t *testing.T) {
	ie := &v1alpha1.ImageEvidence{}
	if !MarkRunning(ie, now, time.Hour) || !ie.Status.LastSeenRunning.Equal(timeAt(now.Truncate(time.Second))) {
		t.Fatalf("first mark: %v", ie.Status.LastSeenRunning)
	}
	if MarkRunning(ie, now.Add(59*time.Minute), time.Hour) {
		t.Error("marked again within the hour")
	}
	if !MarkRunning(ie, now.Add(61*time.Minute), time.Hour) || !ie.Status.LastSeenRunning.Equal(timeAt(now.Add(61*time.Minute).Truncate(time.Second))) {
		t.Errorf("not marked after the hour: %v", ie.Status.LastSeenRunning)
	}
}

func TestMerge(t *testing.T) {
	cat := defaultCatalog(t)
	old := FromEvidence(digestB, &policy.Evidence{Ref: mustRef(t, "registry.k8s.io/coredns/coredns:v1.11.1@"+digestB), TagVerified: true}, cat, now.Add(-time.Hour))
	old.ResourceVersion = "42"
	old.Spec.Images = append(old.Spec.Images, "a.example.com/coredns:v1.11.1", "b.example.com/coredns:v1.11.1", "c.example.com/coredns:v1.11.1")
	old.Status.LastSeenRunning = timeAt(now.Add(time.Minute)) // a later sighting than the new lookup
	fresh := FromEvidence(digestB, &policy.Evidence{
		Ref:           mustRef(t, "mirror.example.com/coredns/coredns:v1.11.1@"+digestB),
		TagUnverified: "the tag v1.11.1 does not exist in the registry",
		Labels:        map[string]string{"version": "1.11.1"},
	}, cat, now)
	oldCopy, freshCopy := old.DeepCopy(), fresh.DeepCopy()

	got := Merge(old, fresh)
	if !reflect.DeepEqual(old, oldCopy) || !reflect.DeepEqual(fresh, freshCopy) {
		t.Fatal("Merge modified its arguments")
	}
	if got.ResourceVersion != "42" {
		t.Errorf("resourceVersion %q", got.ResourceVersion)
	}
	wantImages := []string{"mirror.example.com/coredns/coredns:v1.11.1", "registry.k8s.io/coredns/coredns:v1.11.1", "a.example.com/coredns:v1.11.1", "b.example.com/coredns:v1.11.1"}
	if !reflect.DeepEqual(got.Spec.Images, wantImages) {
		t.Errorf("images %q", got.Spec.Images)
	}
	wantTags := []v1alpha1.TagCheck{
		{Image: "mirror.example.com/coredns/coredns:v1.11.1", Reason: "the tag v1.11.1 does not exist in the registry"},
		{Image: "registry.k8s.io/coredns/coredns:v1.11.1", Verified: true},
	}
	if !reflect.DeepEqual(got.Status.Tags, wantTags) {
		t.Errorf("tags %+v", got.Status.Tags)
	}
	if !got.Status.LastSeenRunning.Equal(old.Status.LastSeenRunning) || !got.Status.ObservedTime.Equal(fresh.Status.ObservedTime) {
		t.Errorf("lastSeenRunning %v observedTime %v", got.Status.LastSeenRunning, got.Status.ObservedTime)
	}
	if !reflect.DeepEqual(got.Status.Labels, fresh.Status.Labels) || got.Status.Summary != fresh.Status.Summary {
		t.Errorf("findings not fresh's: %+v", got.Status)
	}
	if m := Merge(nil, fresh); !reflect.DeepEqual(m, fresh) {
		t.Errorf("Merge(nil, fresh) = %+v", m)
	}
}
