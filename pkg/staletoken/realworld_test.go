package staletoken

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sub is the aggregate expected of one subject in a real-world sample.
type sub struct {
	subject     string
	events      int64
	max         int64
	first, last string
	pods        []string
}

// The EKS samples hold the same five audit events: fluent-bit's list (with
// the trailing "." of the EKS page), an admin request, fluent-bit's watch
// logged at ResponseStarted and, 38 minutes later, ResponseComplete (one
// request: one event), and aws-node past the 90-day cutoff.
var (
	eksFluentBit = sub{"system:serviceaccount:common:fluent-bit", 2, 4185810, "2024-06-10T08:00:00.13Z", "2024-06-10T08:38:08Z", []string{"fluent-bit-7xk2p", "fluent-bit-9qv4z"}}
	eksAWSNode   = sub{"system:serviceaccount:kube-system:aws-node", 1, 7772400, "2024-06-10T08:10:00Z", "2024-06-10T08:10:00Z", []string{"aws-node-h5x8k"}}
)

func TestReadRealWorld(t *testing.T) {
	tests := []struct {
		file      string
		format    string
		events    int64 // audit records read, every stage
		stale     int64 // distinct stale-token requests
		dups      int64 // further stages of a request already counted
		malformed []int64
		subjects  []sub
	}{
		{"kube-apiserver-audit.log", FormatEvents, 8, 3, 3, []int64{}, []sub{
			{"system:serviceaccount:monitoring:prometheus", 2, 5000010, "2024-06-10T08:00:00.1Z", "2024-06-10T08:30:10Z", []string{"prometheus-0"}},
			{"system:serviceaccount:team-a:my.app-sa", 1, 120, "2024-06-10T08:05:00Z", "2024-06-10T08:05:00Z", []string{"my-app-5d7c9-abcde"}},
		}},
		{"eks-filter-log-events.json", FormatCloudWatchAPI, 5, 3, 1, []int64{}, []sub{eksAWSNode, eksFluentBit}},
		{"eks-get-log-events.json", FormatCloudWatchAPI, 5, 3, 1, []int64{}, []sub{eksAWSNode, eksFluentBit}},
		{"eks-filter-log-events.txt", FormatPrefixed, 5, 3, 1, []int64{}, []sub{eksAWSNode, eksFluentBit}},
		{"aws-logs-tail.txt", FormatPrefixed, 5, 3, 1, []int64{}, []sub{eksAWSNode, eksFluentBit}},
		{"fluentd-out-file.log", FormatPrefixed, 5, 3, 1, []int64{}, []sub{eksAWSNode, eksFluentBit}},
		{"fluent-bit-json-lines.jsonl", FormatCloudWatch, 5, 3, 1, []int64{}, []sub{eksAWSNode, eksFluentBit}},
		{"s3-export-000000.gz", "gzip+" + FormatTimePrefix, 5, 3, 1, []int64{}, []sub{eksAWSNode, eksFluentBit}},
		{"insights-message.csv", FormatCSV, 5, 3, 1, []int64{}, []sub{eksAWSNode, eksFluentBit}},
		{"insights-flattened.json", FormatJSONArray, 4, 3, 1, []int64{}, []sub{eksAWSNode, eksFluentBit}},
		// The EKS page's query keeps subject and elapsedtime only: no
		// auditID to merge the watch's two stages, no pod names.
		{"insights-eks-query.json", FormatJSONArray, 4, 4, 0, []int64{}, []sub{
			{eksAWSNode.subject, 1, 7772400, eksAWSNode.first, eksAWSNode.last, []string{}},
			{eksFluentBit.subject, 3, 4185810, eksFluentBit.first, eksFluentBit.last, []string{}},
		}},
		{"insights-eks-query.csv", FormatCSV, 4, 4, 0, []int64{}, []sub{
			{eksAWSNode.subject, 1, 7772400, eksAWSNode.first, eksAWSNode.last, []string{}},
			{eksFluentBit.subject, 3, 4185810, eksFluentBit.first, eksFluentBit.last, []string{}},
		}},
		{"insights-get-query-results.json", FormatInsightsResults, 4, 4, 0, []int64{}, []sub{
			{eksAWSNode.subject, 1, 7772400, eksAWSNode.first, eksAWSNode.last, []string{}},
			{eksFluentBit.subject, 3, 4185810, eksFluentBit.first, eksFluentBit.last, []string{}},
		}},
		// The last line was cut: the watch is only seen at ResponseStarted.
		{"crlf-bom-truncated.jsonl", FormatEvents, 4, 3, 0, []int64{5}, []sub{eksAWSNode,
			{eksFluentBit.subject, 2, 4185810, eksFluentBit.first, "2024-06-10T08:00:08Z", eksFluentBit.pods},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", "realworld", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			a := NewAggregator()
			st, err := a.Read(tt.file, f)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if st.Format != tt.format || st.Events != tt.events || st.StaleEvents != tt.stale || st.DuplicateStaleEvents != tt.dups ||
				!reflect.DeepEqual(st.MalformedLines, tt.malformed) {
				t.Errorf("format %q, %d events, %d stale, %d duplicates, malformed %v %v; want %q, %d, %d, %d, %v",
					st.Format, st.Events, st.StaleEvents, st.DuplicateStaleEvents, st.MalformedLines, st.Problems,
					tt.format, tt.events, tt.stale, tt.dups, tt.malformed)
			}
			var got []sub
			for _, s := range a.Result(Policy{}) {
				got = append(got, sub{s.Subject, s.Events, s.MaxSecondsAfterThreshold,
					s.FirstSeen.Format(time.RFC3339Nano), s.LastSeen.Format(time.RFC3339Nano), s.Pods})
			}
			if !reflect.DeepEqual(got, tt.subjects) {
				t.Errorf("subjects\n got %+v\nwant %+v", got, tt.subjects)
			}
		})
	}
}

// kube-apiserver's legacy text format carries no annotations: it must be
// named as such, with the flag that fixes it, not read as zero events.
func TestReadLegacyFormat(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "realworld", "legacy-format.log"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewAggregator().Read("legacy-format.log", strings.NewReader(string(b)))
	if !errors.Is(err, ErrUnrecognised) || !strings.Contains(err.Error(), "--audit-log-format=json") || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("error %v", err)
	}
}

// Input hygiene and shapes around the samples: each is read or reported at
// its line, never dropped silently.
func TestReadRealWorldEdges(t *testing.T) {
	ts := mustTime(t, "2024-06-10T08:00:00Z")
	ev := eventLine("common", "fluent-bit", 4185802, ts, "fluent-bit-x")
	big := strings.Replace(ev, `"verb":"get",`, `"verb":"get","requestObject":{"data":"`+strings.Repeat("x", 1<<20+512<<10)+`"},`, 1)
	annotated := func(v string) string {
		return `{"kind":"Event","auditID":"x","stageTimestamp":"2024-06-10T08:00:00Z","annotations":{"authentication.k8s.io/stale-token":` + quote(v) + `}}`
	}
	tests := []struct {
		name      string
		input     string
		format    string
		stale     int64
		malformed []int64
		reason    string // in the first problem
	}{
		{"a 1.5 MB CloudWatch message", `{"@timestamp":"2024-06-10 08:00:00.000","@message":` + quote(big) + "}\n", FormatCloudWatch, 1, []int64{}, ""},
		{"binary junk after events", ev + "\n\x00\x01\x02\xff{\n" + ev + "\n", FormatEvents, 2, []int64{2}, "not a JSON object"},
		{"pretty-printed, first key on the first line", "{\"kind\": \"EventList\",\n\"items\": [\n" + ev + "\n]}\n", FormatEventList, 1, []int64{}, ""},
		{"--query 'events[].message' --output text", ev + "\t" + ev + "\n", FormatEvents, 2, []int64{}, ""},
		{"get-log-events --output text", "b/381187\tf/381188\nEVENTS\t1718006400500\t" + ev + "\t1718006400130\n", FormatPrefixed, 1, []int64{}, ""},
		{"elapsedtime as a number", `[{"@timestamp":"2024-06-10 08:00:00.000","subject":"system:serviceaccount:a:b","elapsedtime":4185802.0}]`, FormatJSONArray, 1, []int64{}, ""},
		{"an unknown wrapper with a time", ev + "\n" + `{"@timestamp":"2024-06-10T09:00:00Z","_source":{"raw":` + quote(ev) + "}}\n", FormatEvents, 2, []int64{}, ""},
		{"an unknown wrapper without a time", ev + "\n" + `{"_source":{"raw":"subject: system:serviceaccount:a:b, seconds after warning threshold: 5"}}` + "\n", FormatEvents, 1, []int64{2}, "no time"},
		{"the marker without an annotation", ev + "\n" + `{"kind":"Event","auditID":"y","note":"seconds after warning threshold"}` + "\n", FormatEvents, 1, []int64{2}, "holds no stale-token annotation"},
		{"a node subject", annotated("subject: system:node:ip-10-0-0-1, seconds after warning threshold: 5"), FormatEvents, 0, []int64{1}, `subject "system:node:ip-10-0-0-1" is not system:serviceaccount`},
		{"a value it does not understand", annotated("token for system:serviceaccount:a:b is 5 s past"), FormatEvents, 0, []int64{1}, "malformed stale-token annotation"},
		{"a legacy line among JSON lines", ev + "\n" + `2024-06-10T08:00:00Z AUDIT: id="x" stage="ResponseComplete" ip="1.2.3.4"` + "\n", FormatEvents, 1, []int64{2}, "--audit-log-format=legacy"},
		{"CSV with a broken quote", "@timestamp,subject,elapsedtime\n2024-06-10 08:00:00.000,system:serviceaccount:a:b, 5\n\"2024,x\"y,\"z\n", FormatCSV, 1, []int64{3}, "invalid CSV"},
		{"CSV of the flattened key", "@timestamp,auditID,annotations.authentication.k8s.io/stale-token\n2024-06-10 08:00:00.000,a1,\"subject: system:serviceaccount:a:b, seconds after warning threshold: 5\"\n2024-06-10 08:00:01.000,a1,\"subject: system:serviceaccount:a:b, seconds after warning threshold: 5\"\n", FormatCSV, 1, []int64{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := NewAggregator().Read(tt.name, strings.NewReader(tt.input))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if st.Format != tt.format || st.StaleEvents != tt.stale || !reflect.DeepEqual(st.MalformedLines, tt.malformed) {
				t.Errorf("format %q, %d stale, malformed %v %v; want %q, %d, %v", st.Format, st.StaleEvents, st.MalformedLines, st.Problems, tt.format, tt.stale, tt.malformed)
			}
			if tt.reason != "" && (len(st.Problems) == 0 || !strings.Contains(st.Problems[0].Reason, tt.reason)) {
				t.Errorf("problems %v, want %q", st.Problems, tt.reason)
			}
		})
	}
}

// The same request in two files (overlapping exports) counts once.
func TestReadDuplicatesAcrossFiles(t *testing.T) {
	a := NewAggregator()
	for _, name := range []string{"eks-filter-log-events.json", "s3-export-000000.gz"} {
		f, err := os.Open(filepath.Join("testdata", "realworld", name))
		if err != nil {
			t.Fatal(err)
		}
		_, err = a.Read(name, f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	files := a.Files()
	if files[1].StaleEvents != 0 || files[1].DuplicateStaleEvents != 4 {
		t.Errorf("second file %+v", files[1])
	}
	res := a.Result(Policy{})
	if len(res) != 2 || res[1].Events != 2 {
		t.Errorf("%+v", res)
	}
}

// A gzip file cut short is a read error naming the line it stopped after;
// what was read counts.
func TestReadGzipCutMessage(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "realworld", "s3-export-000000.gz"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := NewAggregator().Read("cut.gz", strings.NewReader(string(b[:len(b)-10])))
	if err == nil || errors.Is(err, ErrUnrecognised) || !strings.Contains(err.Error(), "gzip data is cut short or corrupt after line") || st.StaleEvents == 0 {
		t.Errorf("%+v, %v", st, err)
	}
}
