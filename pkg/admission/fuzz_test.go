package admission

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
)

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }

// FuzzHandler feeds arbitrary bodies to every mode: the handler must never
// panic or answer 500, and a 200 must be a well-formed AdmissionReview
// carrying the request's uid.
func FuzzHandler(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(requestsDir, "*.json"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{"", "{}", "null", "[]", `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","kind":{"kind":"Pod"},"operation":"CREATE","object":{}}}`,
		`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","kind":{"group":"apps","kind":"Deployment"},"operation":"UPDATE","object":{"kind":"Deployment","apiVersion":"apps/v1","spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}},"oldObject":"x"}}`} {
		f.Add([]byte(s))
	}
	s := newTestServer(f, UnknownWarn)
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, mode := range Modes {
			rec := httptest.NewRecorder()
			s.handlers[mode].ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/validate/"+string(mode), bytes.NewReader(body)))
			switch rec.Code {
			case http.StatusOK:
				var in, out admissionv1.AdmissionReview
				if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Response == nil {
					t.Fatalf("200 without a review: %v %s", err, rec.Body)
				}
				_ = json.Unmarshal(body, &in)
				if in.Request == nil || out.Response.UID != in.Request.UID {
					t.Fatalf("uid mismatch")
				}
				if !out.Response.Allowed && (mode != ModeEnforce || out.Response.Result == nil || out.Response.Result.Code != 403) {
					t.Fatalf("bad denial in %s: %s", mode, rec.Body)
				}
			case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			default:
				t.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
			}
		}
		s.logs.Reset()
	})
}
