package admission

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/tokenguard/tokenguard/pkg/workload"
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

// FuzzDecodePaths: the one-pass decoding of a workload review (objects
// decoded with the envelope) must agree with decoding the envelope and then
// the raw object with workload.FromJSON, the path other kinds take: same
// request fields, same workloads, and an error on one side only when the
// one-pass side gave up (then the raw path is what the handler used).
func FuzzDecodePaths(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(requestsDir, "*.json"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","kind":{"kind":"Pod"},"operation":"CREATE","object":{"spec":{"containers":[{"image":"a"}]}},"oldObject":null}}`))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","kind":{"group":"batch","kind":"CronJob"},"operation":"UPDATE","object":{"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"image":"b"}]}}}}}},"oldObject":{"spec":{}}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, msg := decodeReview(body)
		var raw reviewIn
		rawErr := json.Unmarshal(body, &raw)
		if msg != "" {
			if got != nil {
				t.Fatalf("a review and an error %q", msg)
			}
			return
		}
		if rawErr != nil {
			t.Fatalf("decodeReview accepted a body encoding/json refuses: %v", rawErr)
		}
		req := got.Request
		a, b := req.requestFields, raw.Request.requestFields
		if (a.DryRun == nil) != (b.DryRun == nil) || a.DryRun != nil && *a.DryRun != *b.DryRun {
			t.Fatalf("dryRun differs: %v, raw %v", a.DryRun, b.DryRun)
		}
		a.DryRun, b.DryRun = nil, nil
		if a != b {
			t.Fatalf("request fields differ:\n one pass %+v\n raw      %+v", req.requestFields, raw.Request.requestFields)
		}
		if req.decoded == nil {
			return // the raw path itself
		}
		// A key given twice is merged by the one-pass decoder and replaced
		// by the raw one (encoding/json's rules for structs and for
		// RawMessage). kube-apiserver never sends one twice.
		lower := bytes.ToLower(body)
		if bytes.Count(lower, []byte(`"object"`)) > 1 || bytes.Count(lower, []byte(`"oldobject"`)) > 1 {
			return
		}
		g, k := req.Kind.Group, req.Kind.Kind
		for _, c := range []struct {
			name string
			obj  *workload.Object
			raw  rawJSON
		}{{"object", req.decoded.newObject, raw.Request.Object}, {"oldObject", req.decoded.oldObject, raw.Request.OldObject}} {
			if (c.obj == nil) != (len(rawObject(c.raw)) == 0) {
				t.Fatalf("%s: decoded %v, raw %q", c.name, c.obj != nil, c.raw)
			}
			if c.obj == nil {
				continue
			}
			w1, ok1, err1 := c.obj.Workload(g, k)
			w2, ok2, err2 := workload.FromJSON(g, k, c.raw)
			if ok1 != ok2 || (err1 == nil) != (err2 == nil) || !reflect.DeepEqual(w1, w2) {
				t.Fatalf("%s: one pass %+v %v %v, raw %+v %v %v", c.name, w1, ok1, err1, w2, ok2, err2)
			}
		}
	})
}

// TestOnePassDecoding: workloads take the one-pass path (the cheap one,
// which the benchmarks measure), namespaces the raw one, and an object the
// one-pass decoder refuses falls back to the raw path, so that it is
// allowed as undecodable instead of failing the whole review.
func TestOnePassDecoding(t *testing.T) {
	for _, c := range []struct {
		fixture string
		onePass bool
	}{
		{"pod-two-too-old", true},
		{"deployment-update-new-image", true},
		{"cronjob-too-old", true},
		{"pod-undecodable", false},
		{"configmap", false},
	} {
		r, msg := decodeReview(fixture(t, c.fixture))
		if msg != "" {
			t.Fatalf("%s: %s", c.fixture, msg)
		}
		if got := r.Request.decoded != nil; got != c.onePass {
			t.Errorf("%s: one pass = %v, want %v", c.fixture, got, c.onePass)
		}
		if c.onePass && (r.Request.decoded.newObject == nil || len(r.Request.Object) != 0) {
			t.Errorf("%s: one pass without its object, or with raw bytes too", c.fixture)
		}
		if !c.onePass && !r.Request.hasObject() {
			t.Errorf("%s: raw path without its object", c.fixture)
		}
	}
	if r, _ := decodeReview(fixture(t, "deployment-update-new-image")); r.Request.decoded.oldObject == nil {
		t.Error("an UPDATE's oldObject was not decoded")
	}
}
