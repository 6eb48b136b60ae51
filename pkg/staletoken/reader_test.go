package staletoken

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestReadFixtures(t *testing.T) {
	tests := []struct {
		file      string
		format    string
		lines     int64
		events    int64
		stale     int64
		malformed []int64
	}{
		{"events.jsonl", FormatEvents, 10, 7, 3, []int64{4, 6, 8, 10}},
		{"rotated-audit.log", "gzip+" + FormatEvents, 10, 7, 3, []int64{4, 6, 8, 10}},
		{"eventlist.json", FormatEventList, 174, 4, 2, []int64{89}},
		{"cloudwatch.jsonl", FormatCloudWatch, 4, 4, 2, []int64{4}},
		{"cloudwatch-flattened.jsonl", FormatFlattened, 3, 3, 2, []int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, stats, errs := readFixtures(t, tt.file)
			if errs[0] != nil {
				t.Fatalf("Read: %v", errs[0])
			}
			st := stats[0]
			if st.Format != tt.format || st.Lines != tt.lines || st.Events != tt.events || st.StaleEvents != tt.stale {
				t.Errorf("format %q, %d lines, %d events, %d stale; want %q, %d, %d, %d",
					st.Format, st.Lines, st.Events, st.StaleEvents, tt.format, tt.lines, tt.events, tt.stale)
			}
			if st.Malformed != int64(len(tt.malformed)) || !reflect.DeepEqual(st.MalformedLines, tt.malformed) {
				t.Errorf("malformed %d at %v; want %v (%v)", st.Malformed, st.MalformedLines, tt.malformed, st.Problems)
			}
		})
	}
}

func TestReadFixtureSubjects(t *testing.T) {
	a, _, errs := readFixtures(t, "events.jsonl", "eventlist.json", "cloudwatch.jsonl", "cloudwatch-flattened.jsonl")
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := a.Result(Policy{})
	type row struct {
		subject  string
		status   Status
		events   int64
		max      int64
		left     int64
		days     int64
		first    string
		last     string
		pods     []string
		morePods int
	}
	want := []row{
		// 7000000 + 3607 = 7003607 s old: 772393 s (8.9 days) left.
		{"system:serviceaccount:kube-system:aws-node", StatusExpiring, 1, 7000000, 772393, 8, "2024-06-01T12:00:00Z", "2024-06-01T12:00:00Z", []string{"aws-node-x1"}, 0},
		{"system:serviceaccount:ci:runner", StatusExpiring, 2, 6986400, 785993, 9, "2024-06-12T00:00:00Z", "2024-06-13T00:00:00Z", []string{"runner-abc", "runner-def"}, 0},
		{"system:serviceaccount:monitoring:prometheus", StatusExpiring, 2, 6600000, 1172393, 13, "2024-06-05T00:00:00Z", "2024-06-06T00:00:00Z", []string{"prometheus-0", "prometheus-1"}, 0},
		{"system:serviceaccount:data:etl", StatusStale, 2, 3000000, 4772393, 55, "2024-06-10T08:00:00Z", "2024-06-11T09:30:00Z", []string{"etl-job-abc"}, 0},
		{"system:serviceaccount:payments:api", StatusStale, 2, 200000, 7572393, 87, "2024-06-01T10:00:00Z", "2024-06-02T10:00:00.123456Z", []string{"api-7d9f-1", "api-7d9f-2"}, 0},
	}
	if len(got) != len(want) {
		t.Fatalf("%d subjects, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		r := row{g.Subject, g.Status, g.Events, g.MaxSecondsAfterThreshold, g.SecondsLeft, g.DaysLeft,
			g.FirstSeen.Format(time.RFC3339Nano), g.LastSeen.Format(time.RFC3339Nano), g.Pods, g.MorePods}
		if !reflect.DeepEqual(r, w) {
			t.Errorf("subject %d:\n got %+v\nwant %+v", i, r, w)
		}
		if g.TokenAgeSeconds != g.MaxSecondsAfterThreshold+WarnAfterSeconds {
			t.Errorf("%s: token age %d, want max + 3607 (as of the last-seen event)", g.Subject, g.TokenAgeSeconds)
		}
	}
	if got[0].Namespace != "kube-system" || got[0].ServiceAccount != "aws-node" {
		t.Errorf("namespace/name %q/%q", got[0].Namespace, got[0].ServiceAccount)
	}
}

func TestReadUnrecognised(t *testing.T) {
	for _, name := range []string{"image.png", "not-audit.json"} {
		_, _, errs := readFixtures(t, name)
		if !errors.Is(errs[0], ErrUnrecognised) {
			t.Errorf("%s: error %v, want ErrUnrecognised", name, errs[0])
		}
	}
	tests := []struct {
		name  string
		input string
	}{
		{"text", "hello\nworld\n"},
		{"broken JSON only", "{not json\n{nor this\n"},
		{"JSON array of numbers", "[1, 2]\n"},
		{"pretty Deployment", "{\n  \"kind\": \"Deployment\",\n  \"spec\": {}\n}\n"},
		{"list of pods", "{\n \"kind\": \"PodList\",\n \"items\": []\n}\n"},
		{"truncated document", "{\n  \"kind\": \"EventList\",\n  \"items\": [\n"},
		{"bad gzip", "\x1f\x8b garbage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewAggregator().Read(tt.name, strings.NewReader(tt.input))
			if err == nil {
				t.Fatal("no error")
			}
			if tt.name != "bad gzip" && !errors.Is(err, ErrUnrecognised) {
				t.Errorf("error %v, want ErrUnrecognised", err)
			}
		})
	}
}

func TestReadEmpty(t *testing.T) {
	for _, in := range []string{"", "\n\n", "   \n"} {
		st, err := NewAggregator().Read("empty", strings.NewReader(in))
		if err != nil || st.Events != 0 || st.Malformed != 0 {
			t.Errorf("%q: %+v, %v", in, st, err)
		}
	}
}

func TestReadShapes(t *testing.T) {
	ts := mustTime(t, "2024-06-01T00:00:00Z")
	ev := eventLine("ns", "sa", 100, ts, "p")
	tests := []struct {
		name      string
		input     string
		format    string
		events    int64
		stale     int64
		malformed []int64
	}{
		{"CRLF and BOM", "\xef\xbb\xbf" + ev + "\r\n" + ev + "\r\n", FormatEvents, 2, 2, []int64{}},
		{"no final newline", ev + "\n" + ev, FormatEvents, 2, 2, []int64{}},
		{"EventList per line", `{"kind":"EventList","items":[` + ev + `,` + ev + `]}` + "\n" + `{"kind":"EventList","items":[{"kind":"Event","stage":"ResponseComplete"}]}`, FormatEventList, 3, 2, []int64{}},
		{"JSON array", "[\n" + ev + ",\n" + ev + "\n]\n", FormatJSONArray, 2, 2, []int64{}},
		{"CloudWatch Insights array", `[{"@timestamp":"2024-06-01 00:00:00.000","@message":` + quote(ev) + `}]`, FormatJSONArray, 1, 1, []int64{}},
		{"pretty events (jq .)", "{\n\"kind\": \"Event\",\n\"stage\": \"ResponseComplete\"\n}\n{\n" + ev[1:] + "\n", FormatPrettyEvent, 2, 1, []int64{}},
		{"time-prefixed (S3 export)", "2024-06-01T00:00:00.000Z " + ev + "\n2024-06-01T00:00:01.000Z {\"kind\":\"Event\"}\n", FormatTimePrefix, 2, 1, []int64{}},
		{"EventList truncated after an item", "{\n\"kind\": \"EventList\",\n\"items\": [\n" + ev + ",\n{\"kind\":", FormatEventList, 1, 1, []int64{5}},
		{"item of the wrong type", "[\n" + ev + ",\n\"text\",\n" + ev + "\n]", FormatJSONArray, 3, 2, []int64{3}},
		{"annotations not an object", ev + "\n" + `{"kind":"Event","annotations":"stale-token"}` + "\n", FormatEvents, 1, 1, []int64{2}},
		{"JSON but not an event later", ev + "\n" + `{"stale-token":1}` + "\n" + "[1]\n", FormatEvents, 1, 1, []int64{2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAggregator()
			st, err := a.Read(tt.name, strings.NewReader(tt.input))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if st.Format != tt.format || st.Events != tt.events || st.StaleEvents != tt.stale || !reflect.DeepEqual(st.MalformedLines, tt.malformed) {
				t.Errorf("format %q, %d events, %d stale, malformed %v (%v); want %q, %d, %d, %v",
					st.Format, st.Events, st.StaleEvents, st.MalformedLines, st.Problems, tt.format, tt.events, tt.stale, tt.malformed)
			}
		})
	}
}

func quote(s string) string {
	var b bytes.Buffer
	b.WriteByte('"')
	b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s))
	b.WriteByte('"')
	return b.String()
}

func TestReadLongLines(t *testing.T) {
	ts := mustTime(t, "2024-06-01T00:00:00Z")
	ev := eventLine("ns", "sa", 100, ts, "p")
	long := `{"kind":"Event","pad":"` + strings.Repeat("x", 5000) + `"}`
	a := &Aggregator{MaxLineBytes: 1000}
	st, err := a.Read("long", strings.NewReader(ev+"\n"+long+"\n"+ev+"\n"+long))
	if err != nil {
		t.Fatal(err)
	}
	if st.Lines != 4 || st.StaleEvents != 2 || !reflect.DeepEqual(st.MalformedLines, []int64{2, 4}) {
		t.Errorf("%+v", st)
	}
	if !strings.Contains(st.Problems[0].Reason, "longer than 1000 bytes") {
		t.Errorf("reason %q", st.Problems[0].Reason)
	}
}

func TestReadMalformedCap(t *testing.T) {
	ts := mustTime(t, "2024-06-01T00:00:00Z")
	in := eventLine("ns", "sa", 100, ts, "") + "\n" + strings.Repeat("garbage\n", 50)
	st, err := NewAggregator().Read("x", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if st.Malformed != 50 || len(st.MalformedLines) != MaxMalformedLines || st.MalformedLines[0] != 2 || st.MalformedLines[19] != 21 {
		t.Errorf("malformed %d, lines %v", st.Malformed, st.MalformedLines)
	}
}

func TestReadGzipConcatenated(t *testing.T) {
	ts := mustTime(t, "2024-06-01T00:00:00Z")
	var buf bytes.Buffer
	for i := 0; i < 2; i++ {
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte(eventLine("ns", "sa", int64(100+i), ts.Add(time.Duration(i)*time.Hour), "") + "\n"))
		zw.Close()
	}
	st, err := NewAggregator().Read("x", &buf)
	if err != nil || st.StaleEvents != 2 || st.Format != "gzip+"+FormatEvents {
		t.Errorf("%+v, %v", st, err)
	}
	// A truncated gzip stream is a read error; what was read still counts.
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	for i := 0; i < 2000; i++ {
		zw.Write([]byte(eventLine("ns", "sa", int64(i), ts, fmtInt(i)) + "\n"))
	}
	zw.Close()
	a := NewAggregator()
	st, err = a.Read("cut", bytes.NewReader(z.Bytes()[:z.Len()/2]))
	if err == nil || errors.Is(err, ErrUnrecognised) || st.StaleEvents == 0 {
		t.Errorf("truncated gzip: %+v, %v", st, err)
	}
}

func fmtInt(i int) string { return "pod-" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) }

// An EventList written on one line longer than MaxLineBytes (8 MB here) is
// an audit log, read as a document, not "not an audit log".
func TestOneLineEventListLongerThanALine(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[`)
	event := `{"auditID":"%d","stage":"ResponseComplete","stageTimestamp":"2026-01-02T03:04:05Z","user":{"username":"system:serviceaccount:prod:api"},"annotations":{"authentication.k8s.io/stale-token":"subject: system:serviceaccount:prod:api, seconds after warning threshold: 1000"},"filler":"` + strings.Repeat("x", 4000) + `"}`
	for i := 0; b.Len() < 8<<20; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, event, i)
	}
	b.WriteString("]}")
	agg := NewAggregator()
	st, err := agg.Read("one-line.json", strings.NewReader(b.String()))
	if err != nil {
		t.Fatalf("8 MB one-line EventList: %v", err)
	}
	if st.StaleEvents < 1900 || st.Malformed != 0 || st.Format != FormatEventList {
		t.Errorf("stats %+v", st)
	}
}
