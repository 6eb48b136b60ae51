package v1alpha1

import (
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
)

func TestScheme(t *testing.T) {
	s := runtime.NewScheme()
	if err := AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	for obj, kind := range map[runtime.Object]string{&ImageEvidence{}: ImageEvidenceKind, &ImageEvidenceList{}: ImageEvidenceListKind} {
		gvks, _, err := s.ObjectKinds(obj)
		if err != nil || len(gvks) != 1 || gvks[0] != SchemeGroupVersion.WithKind(kind) {
			t.Errorf("%T: kinds %v, %v", obj, gvks, err)
		}
	}
	if got := ImageEvidenceResource.String(); got != "tokenguard.io/v1alpha1, Resource=imageevidences" {
		t.Errorf("resource %s", got)
	}
	if got := Resource(ImageEvidencePlural).String(); got != "imageevidences.tokenguard.io" {
		t.Errorf("group resource %s", got)
	}

	// Encoded with the scheme's codecs, decoded strictly, unchanged.
	seen := metav1.NewTime(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	digest := "sha256:" + strings.Repeat("ab", 32)
	in := &ImageEvidence{
		ObjectMeta: metav1.ObjectMeta{Name: ObjectName(digest)},
		Spec:       ImageEvidenceSpec{Digest: digest, Images: []string{"ghcr.io/acme/api:1.4"}},
		Status: ImageEvidenceStatus{
			Packages:       []Package{{Type: "golang", Namespace: "k8s.io", Name: "client-go", Version: "v0.14.2", PURL: "pkg:golang/k8s.io/client-go@v0.14.2", Source: "sbom:spdx-referrer"}},
			Labels:         map[string]string{"org.opencontainers.image.version": "1.4.0"},
			SBOM:           "sbom:spdx-referrer",
			Tags:           []TagCheck{{Image: "ghcr.io/acme/api:1.4", Verified: true}},
			CatalogVersion: "2026.11.1",
			ObservedTime:   &seen, LastSeenRunning: &seen,
			Summary: "k8s.io/client-go v0.14.2",
		},
	}
	cf := serializer.NewCodecFactory(s, serializer.EnableStrict)
	info, ok := runtime.SerializerInfoForMediaType(cf.SupportedMediaTypes(), runtime.ContentTypeJSON)
	if !ok {
		t.Fatal("no JSON serializer")
	}
	data, err := runtime.Encode(cf.EncoderForVersion(info.Serializer, SchemeGroupVersion), in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"kind":"ImageEvidence","apiVersion":"tokenguard.io/v1alpha1"`) {
		t.Errorf("encoded without its kind: %s", data)
	}
	out, _, err := cf.UniversalDecoder(SchemeGroupVersion).Decode(data, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*ImageEvidence)
	got.TypeMeta = metav1.TypeMeta{}
	got.Status.ObservedTime.Time = got.Status.ObservedTime.UTC()
	got.Status.LastSeenRunning.Time = got.Status.LastSeenRunning.UTC()
	if !reflect.DeepEqual(got, in) {
		t.Errorf("decoded\n%+v\nwant\n%+v", got, in)
	}
	if _, _, err := cf.UniversalDecoder(SchemeGroupVersion).Decode([]byte(`{"apiVersion":"tokenguard.io/v1alpha1","kind":"ImageEvidence","spec":{"digest":"`+digest+`","bogus":1}}`), nil, nil); err == nil {
		t.Error("an unknown field decodes without error under strict decoding")
	}
}
