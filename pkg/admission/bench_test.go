package admission

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// floorHandler is the decode-only floor, the same as test/load/floor: it
// decodes the full AdmissionReview and then the object into its typed
// struct with one decoder (encoding/json), and answers allowed. The
// handler's cost above it is what tokenguard adds.
type floorHandler struct{}

func (floorHandler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body := new(bytes.Buffer)
	if _, err := body.ReadFrom(http.MaxBytesReader(w, req.Body, MaxRequestBytes)); err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body.Bytes(), &review); err != nil || review.Request == nil {
		httpError(w, http.StatusBadRequest, "bad review")
		return
	}
	var obj any = &map[string]any{}
	switch review.Request.Kind.Kind {
	case "Pod":
		obj = &corev1.Pod{}
	case "Deployment":
		obj = &appsv1.Deployment{}
	}
	if err := json.Unmarshal(review.Request.Object.Raw, obj); err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeReview(w, &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true})
}

func benchHandler(b *testing.B, h http.Handler, body []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/validate/warn?timeout=10s", bytes.NewReader(body))
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkHandler runs the full handler (warn mode, kubewebhook, engine,
// metrics, log line to a discarding handler) beside the floor, in one run:
// compare ns/op of the pairs.
func BenchmarkHandler(b *testing.B) {
	s := newTestServer(b, UnknownAllow)
	for _, fx := range []string{"pod-3c", "deployment-too-old"} {
		body := benchFixture(b, fx)
		b.Run(fx+"/floor", func(b *testing.B) { benchHandler(b, floorHandler{}, body) })
		b.Run(fx+"/handler", func(b *testing.B) {
			s.logs.Reset()
			benchHandler(b, s.handlers[ModeWarn], body)
		})
	}
}

// benchFixture returns a fixture; "pod-3c" is the 4.4 KB three-container
// pod of the load test when present, else the two-too-old pod.
func benchFixture(b *testing.B, name string) []byte {
	if name == "pod-3c" {
		if body, err := readFile("../../test/load/fixtures/pod-3c-allowed.json"); err == nil {
			return body
		}
		name = "pod-two-too-old"
	}
	return fixture(b, name)
}
