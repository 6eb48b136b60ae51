package admission

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The smaller attacks of issue #13 on the admission handler.

// TestEphemeralContainersJudged: `kubectl debug` adds containers through the
// pods/ephemeralcontainers subresource (an UPDATE whose object is the Pod);
// it was skipped as "subresource", letting an old image in.
func TestEphemeralContainersJudged(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(requestsDir, "pod-ephemeral-too-old.json"))
	if err != nil {
		t.Fatal(err)
	}
	s := newTestServer(t, UnknownAllow)
	r := decodeResponse(t, s.post(ModeEnforce, body, "?timeout=10s"))
	if r.Allowed || r.Result == nil || r.Result.Code != http.StatusForbidden || !strings.Contains(r.Result.Message, `container "debugger-x2b9q" uses coredns 1.6.7`) {
		t.Errorf("enforce: %+v %+v", r, r.Result)
	}
	r = decodeResponse(t, s.post(ModeWarn, body, "?timeout=10s"))
	if !r.Allowed || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], `"debugger-x2b9q"`) {
		t.Errorf("warn: %+v", r)
	}

	// Other subresources, and the subresource on other kinds, stay skipped.
	for _, tt := range []struct{ name, from, to string }{
		{"pods/status", `"subResource": "ephemeralcontainers"`, `"subResource": "status"`},
		{"create", `"operation": "UPDATE"`, `"operation": "CREATE"`},
		{"other kind", `"kind": "Pod"
    },
    "resource"`, `"kind": "EphemeralContainers"
    },
    "resource"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			changed := strings.Replace(string(body), tt.from, tt.to, 1)
			if changed == string(body) {
				t.Fatalf("fixture lacks %s", tt.from)
			}
			if r := decodeResponse(t, s.post(ModeEnforce, []byte(changed), "?timeout=10s")); !r.Allowed {
				t.Errorf("denied: %+v", r.Result)
			}
		})
	}
}

// unreadBody fails a test that reads it.
type unreadBody struct{ read bool }

func (b *unreadBody) Read(p []byte) (int, error) {
	b.read = true
	return 0, fmt.Errorf("the body was read")
}

// TestDeclaredTooLargeRefusedUnread: a Content-Length above MaxRequestBytes
// is a 413 before a byte of the body is read (it was read until the body's
// end or ReadTimeout, then a 400 for the short body).
func TestDeclaredTooLargeRefusedUnread(t *testing.T) {
	s := newTestServer(t, UnknownAllow)
	body := &unreadBody{}
	req := httptest.NewRequest(http.MethodPost, "/validate/enforce?timeout=10s", body)
	req.ContentLength = 100 << 20
	rec := httptest.NewRecorder()
	s.handlers[ModeEnforce].ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("HTTP %d, want 413: %s", rec.Code, rec.Body)
	}
	if body.read {
		t.Error("the body was read")
	}

	// Over a real connection: 100 MB declared, 70 bytes sent, the answer
	// comes without waiting for the rest.
	srv := httptest.NewServer(s.handlers[ModeEnforce])
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second)) // a hang fails instead of blocking the run
	fmt.Fprintf(conn, "POST /validate/enforce HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", 100<<20, strings.Repeat("{", 70))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("HTTP %d, want 413", resp.StatusCode)
	}
}

// manyContainerPod is a Pod CREATE review with n containers, all too old.
func manyContainerPod(n int) []byte {
	containers := make([]map[string]any, n)
	for i := range containers {
		containers[i] = map[string]any{"name": fmt.Sprintf("c%05d", i), "image": "k8s.gcr.io/coredns:1.6.7"}
	}
	review := map[string]any{
		"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
		"request": map[string]any{
			"uid": "00000000-0000-4000-8000-000000000032", "operation": "CREATE",
			"kind":     map[string]any{"group": "", "version": "v1", "kind": "Pod"},
			"resource": map[string]any{"group": "", "version": "v1", "resource": "pods"},
			"name":     "wide", "namespace": "prod",
			"object": map[string]any{"apiVersion": "v1", "kind": "Pod",
				"metadata": map[string]any{"name": "wide", "namespace": "prod"},
				"spec":     map[string]any{"containers": containers}},
		},
	}
	data, _ := json.Marshal(review)
	return data
}

// TestDenialMessageCapped: a denial names at most maxDenialClauses findings,
// then counts the rest (a 10,000-container pod got a 1.2 MB message).
func TestDenialMessageCapped(t *testing.T) {
	s := newTestServer(t, UnknownAllow)
	for _, tt := range []struct {
		containers int
		wantTail   string
	}{
		{maxDenialClauses, `update CoreDNS to v1.8.4 or later`},
		{maxDenialClauses + 1, `; and 1 more finding; run "tokenguard check" on the manifest for all of them`},
		{10000, `; and 9992 more findings; run "tokenguard check" on the manifest for all of them`},
	} {
		t.Run(fmt.Sprint(tt.containers), func(t *testing.T) {
			body := manyContainerPod(tt.containers)
			r := decodeResponse(t, s.post(ModeEnforce, body, "?timeout=10s"))
			if r.Allowed || r.Result == nil {
				t.Fatalf("allowed: %+v", r)
			}
			msg := r.Result.Message
			if !strings.HasSuffix(msg, tt.wantTail) {
				t.Errorf("message ends %q, want %q", msg[max(0, len(msg)-120):], tt.wantTail)
			}
			if n := strings.Count(msg, " uses coredns "); n != min(tt.containers, maxDenialClauses) {
				t.Errorf("%d clauses, want %d", n, min(tt.containers, maxDenialClauses))
			}
			if len(msg) > 4<<10 {
				t.Errorf("message of %d bytes", len(msg))
			}
			// The first containers in order, the same bytes every time.
			if !strings.Contains(msg, `container "c00000"`) || strings.Contains(msg, fmt.Sprintf(`container "c%05d"`, maxDenialClauses)) {
				t.Errorf("not the first %d containers: %.300s", maxDenialClauses, msg)
			}
			again := decodeResponse(t, s.post(ModeEnforce, body, "?timeout=10s"))
			if again.Result == nil || again.Result.Message != msg {
				t.Error("the message differs between two identical reviews")
			}
		})
	}
}
