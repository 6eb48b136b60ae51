package auditsink

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

// FuzzSink feeds arbitrary bodies to an authenticated POST /audit: the sink
// must never panic or answer anything but 200, 400 or 413 (the API server retries a batch
// on 5xx for ever), and it never counts more stale-token requests than the
// body holds annotations.
func FuzzSink(f *testing.F) {
	for _, s := range []string{
		"", "{}", "null", "[]", `{"kind":"EventList"}`, `{"kind":"EventList","items":null}`,
		batch(event("common", "fluent-bit", 4185802, "fb-0"), event("a", "b", -1, "p")),
		batch(stage("x", "RequestReceived", "ns", "sa", 10, "p"), stage("x", "ResponseComplete", "ns", "sa", 10, "p")),
		`{"kind":"EventList","items":[{"annotations":{"authentication.k8s.io/stale-token":"subject: system:serviceaccount:a:b, seconds after warning threshold: 1e99"}}]}`,
		`{"kind":"EventList","items":[{"annotations":{"authentication.k8s.io/stale-token":7}}]}`,
	} {
		f.Add([]byte(s))
	}
	one := event("a", "b", 5, "p")
	for _, s := range []string{
		batch(one) + " trailing", batch(one) + batch(one), batch(one) + " \n", " ", "\n\t",
		`{"kind":"EventList","items":[],"Items":[` + one + `]}`, `{"kind":"EventList","items":{}}`, `{"kind":7}`,
		batch(event(strings.Repeat("a", 300), "b", 5, "p")), batch(event("a", strings.Repeat("b", 254), 5, "p")),
		batch(event("A", "b", 5, "p")), batch(event("a", "b", 9223372036854775807, "p")),
		batch(event("a", "b", MaxSeconds+1, "p"), one), batch(event("a", "b", MaxSeconds, "p")),
		`{"kind":"EventList","items":[` + strings.Repeat("{},", DefaultMaxEvents) + `{}]}`,
		batch(event("a", "b", 5, "p"), event("c", "d", 6, "q"), event("e", "f", 7, "r"), event("g", "h", 8, "s")),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s := newSink(nil, nil, Options{MaxSubjects: 3})
		rec := post(s, string(body))
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
		}
		if rec.Code != http.StatusOK {
			return
		}
		// The body as the sink read it: how many items carry the annotation.
		var list struct {
			Items []struct {
				Annotations map[string]any `json:"annotations"`
			} `json:"items"`
		}
		_ = json.NewDecoder(bytes.NewReader(body)).Decode(&list) // as the sink reads it: the first value
		annotated := 0
		for _, it := range list.Items {
			if _, ok := it.Annotations["authentication.k8s.io/stale-token"]; ok {
				annotated++
			}
		}
		if series := testutil.CollectAndCount(s.events); series > annotated {
			t.Fatalf("%d service-account series from a body with %d stale-token annotations", series, annotated)
		}
		ch := make(chan prometheus.Metric, 64)
		go func() { s.events.Collect(ch); close(ch) }()
		var requests float64
		for m := range ch {
			var d dto.Metric
			if err := m.Write(&d); err != nil {
				t.Fatal(err)
			}
			requests += d.GetCounter().GetValue()
		}
		if requests > float64(annotated) {
			t.Fatalf("%v requests counted from a body with %d stale-token annotations", requests, annotated)
		}
	})
}
