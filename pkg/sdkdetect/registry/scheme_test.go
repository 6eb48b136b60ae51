package registry

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// schemeAnswers answers each scheme as told: a status, or an error when
// the status is 0. Bodies count their closing.
type schemeAnswers struct {
	status map[string]int
	closed atomic.Int64
	done   chan struct{} // receives once per closed body
}

type countingBody struct {
	io.Reader
	a *schemeAnswers
}

func (b countingBody) Close() error {
	b.a.closed.Add(1)
	b.a.done <- struct{}{}
	return nil
}

func (a *schemeAnswers) RoundTrip(req *http.Request) (*http.Response, error) {
	code := a.status[req.URL.Scheme]
	if code == 0 {
		return nil, errors.New(req.URL.Scheme + " failed")
	}
	return &http.Response{StatusCode: code, Body: countingBody{strings.NewReader(req.URL.Scheme), a}, Request: req}, nil
}

func TestRaceSchemes(t *testing.T) {
	for _, tc := range []struct {
		name         string
		https, plain int
		want         string // the scheme kept, "" for an error
	}{
		{name: "https registry", https: 200, plain: 400, want: "https"},
		{name: "https registry asking for credentials", https: 401, plain: 400, want: "https"},
		{name: "plain-http registry", plain: 200, want: "http"},
		{name: "plain-http registry answering 400", plain: 400, want: "http"},
		{name: "neither"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &schemeAnswers{status: map[string]int{"https": tc.https, "http": tc.plain}, done: make(chan struct{}, 2)}
			req, _ := http.NewRequest(http.MethodHead, "http://registry.test/v2/acme/api/manifests/1.4", nil)
			resp, scheme, err := raceSchemes(a, req)
			if scheme != tc.want {
				t.Fatalf("scheme %q (%v), want %q", scheme, err, tc.want)
			}
			if tc.want == "" {
				if err == nil || !strings.Contains(err.Error(), "https failed") || !strings.Contains(err.Error(), "http failed") {
					t.Errorf("error %v, want both schemes' errors", err)
				}
				return
			}
			if resp.StatusCode != map[string]int{"https": tc.https, "http": tc.plain}[tc.want] || resp.Request.URL.Scheme != tc.want {
				t.Errorf("kept %d over %s", resp.StatusCode, resp.Request.URL.Scheme)
			}
			if req.URL.Scheme != "http" {
				t.Error("the caller's request was changed")
			}
			// The loser's body is closed (soon, when it answered after
			// the winner), the winner's when the caller closes it.
			resp.Body.Close()
			bodies := 0
			for _, code := range a.status {
				if code != 0 {
					bodies++
				}
			}
			for range bodies {
				select {
				case <-a.done:
				case <-time.After(10 * time.Second):
					t.Fatalf("%d of %d bodies closed", a.closed.Load(), bodies)
				}
			}
		})
	}
}
