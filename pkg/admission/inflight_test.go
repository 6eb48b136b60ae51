package admission

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestBodyBudget: while one maximal body is being received and the
// budget holds only one, a second review waits for room until its own
// deadline and is then a 503 (never read, never buffered); once the first
// is done, reviews go through again.
func TestBodyBudget(t *testing.T) {
	s := newTestServer(t, UnknownAllow)
	budget := NewBodyBudget(MaxRequestBytes)
	h := *s.handlers[ModeWarn]
	h.bodies = budget
	srv := httptest.NewServer(&h)
	defer srv.Close()

	small, err := os.ReadFile(filepath.Join(requestsDir, firstRequest(t)))
	if err != nil {
		t.Fatal(err)
	}
	post := func(timeout string) int {
		resp, err := http.Post(srv.URL+"?timeout="+timeout, "application/json", bytes.NewReader(small))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("2s"); code != http.StatusOK {
		t.Fatalf("a review with the budget free: %d", code)
	}

	// A client that declares a maximal body and sends it slowly.
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"?timeout=10s", pr)
	req.ContentLength = MaxRequestBytes
	slow := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			slow <- 0
			return
		}
		resp.Body.Close()
		slow <- resp.StatusCode
	}()
	_, _ = pw.Write([]byte("{")) // the handler is now reading it
	time.Sleep(100 * time.Millisecond)

	start := time.Now()
	if code := post("1s"); code != http.StatusServiceUnavailable {
		t.Errorf("a review while the budget is held: %d, want 503", code)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the refused review waited %s, past its 1 s timeout", took)
	}
	pw.CloseWithError(io.ErrUnexpectedEOF)
	if code := <-slow; code == http.StatusOK {
		t.Errorf("the truncated body answered 200")
	}
	if code := post("2s"); code != http.StatusOK {
		t.Errorf("a review after the budget was given back: %d", code)
	}
}

func TestBodyBudgetFloor(t *testing.T) {
	b := NewBodyBudget(1)
	if b.limit != MaxRequestBytes {
		t.Errorf("limit %d, want at least one maximal review (%d)", b.limit, MaxRequestBytes)
	}
	var nilBudget *BodyBudget
	release, err := nilBudget.acquire(t.Context(), 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	release()
}

func firstRequest(t *testing.T) string {
	files, err := filepath.Glob(filepath.Join(requestsDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatal("no request fixtures")
	}
	return filepath.Base(files[0])
}
