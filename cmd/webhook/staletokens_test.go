package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tokenguard/tokenguard/pkg/staletoken"
)

const staleDir = "../../pkg/staletoken/testdata"

func staleFixture(name string) string { return filepath.Join(staleDir, name) }

// staleOutput is the JSON contract of stale-tokens -o json.
type staleOutput struct {
	Subjects []struct {
		Subject                  string   `json:"subject"`
		Namespace                string   `json:"namespace"`
		ServiceAccount           string   `json:"serviceAccount"`
		Status                   string   `json:"status"`
		Events                   int64    `json:"events"`
		FirstSeen                string   `json:"firstSeen"`
		LastSeen                 string   `json:"lastSeen"`
		MaxSecondsAfterThreshold int64    `json:"maxSecondsAfterThreshold"`
		TokenAgeSeconds          int64    `json:"tokenAgeSeconds"`
		SecondsLeft              int64    `json:"secondsLeft"`
		DaysLeft                 int64    `json:"daysLeft"`
		Pods                     []string `json:"pods"`
		MorePods                 int      `json:"morePods"`
	} `json:"subjects"`
	Files []struct {
		Path           string  `json:"path"`
		Format         string  `json:"format"`
		Lines          int64   `json:"lines"`
		Events         int64   `json:"events"`
		StaleEvents    int64   `json:"staleEvents"`
		Duplicates     int64   `json:"duplicateStaleEvents"`
		Malformed      int64   `json:"malformed"`
		MalformedLines []int64 `json:"malformedLines"`
		Error          string  `json:"error"`
	} `json:"files"`
}

func decodeStale(t *testing.T, s string) staleOutput {
	t.Helper()
	var out staleOutput
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatalf("output is not the JSON contract: %v\n%s", err, s)
	}
	return out
}

func TestStaleTokensJSON(t *testing.T) {
	code, out, errOut := runCLI(t, "", "stale-tokens", "-o", "json",
		staleFixture("events.jsonl"), staleFixture("eventlist.json"), staleFixture("cloudwatch.jsonl"),
		staleFixture("cloudwatch-flattened.jsonl"), staleFixture("rotated-audit.log"))
	if code != exitFindings {
		t.Errorf("exit %d, want %d; stderr %s", code, exitFindings, errOut)
	}
	if errOut != "" {
		t.Errorf("stderr in JSON mode: %s", errOut)
	}
	r := decodeStale(t, out)
	var order []string
	for _, s := range r.Subjects {
		order = append(order, s.Status+" "+s.Namespace+"/"+s.ServiceAccount)
	}
	want := []string{"expiring kube-system/aws-node", "expiring ci/runner", "expiring monitoring/prometheus", "stale data/etl", "stale payments/api"}
	if !reflect.DeepEqual(order, want) {
		t.Errorf("subjects %q, want %q", order, want)
	}
	// rotated-audit.log is a gzip copy of events.jsonl: the same requests
	// (same auditIDs) count once.
	s := r.Subjects[0]
	if s.Subject != "system:serviceaccount:kube-system:aws-node" || s.Events != 1 || s.MaxSecondsAfterThreshold != 7000000 ||
		s.TokenAgeSeconds != 7003607 || s.SecondsLeft != 772393 || s.DaysLeft != 8 ||
		s.FirstSeen != "2024-06-01T12:00:00Z" || !reflect.DeepEqual(s.Pods, []string{"aws-node-x1"}) {
		t.Errorf("first subject %+v", s)
	}
	if len(r.Files) != 5 {
		t.Fatalf("%d files", len(r.Files))
	}
	f := r.Files[0]
	if f.Path != staleFixture("events.jsonl") || f.Format != "audit-events" || f.Lines != 10 || f.Events != 7 ||
		f.StaleEvents != 3 || f.Malformed != 4 || !reflect.DeepEqual(f.MalformedLines, []int64{4, 6, 8, 10}) || f.Error != "" {
		t.Errorf("files[0] %+v", f)
	}
	if r.Files[4].Format != "gzip+audit-events" || r.Files[4].StaleEvents != 0 || r.Files[4].Duplicates != 3 {
		t.Errorf("files[4] %+v", r.Files[4])
	}
	if !strings.Contains(out, `"malformedLines": []`) {
		t.Error("a file without malformed lines should list [] (not null)")
	}
}

func TestStaleTokensText(t *testing.T) {
	code, out, errOut := runCLI(t, "", "stale-tokens", staleFixture("events.jsonl"), staleFixture("eventlist.json"))
	if code != exitFindings {
		t.Errorf("exit %d", code)
	}
	for _, want := range []string{
		"STATUS    NAMESPACE    SERVICE ACCOUNT  DAYS LEFT  MAX SECONDS AFTER THRESHOLD  EVENTS  FIRST SEEN            LAST SEEN             PODS\n",
		"expiring  kube-system  aws-node         8          7000000                      1       2024-06-01T12:00:00Z  2024-06-01T12:00:00Z  aws-node-x1\n",
		"stale     payments     api              87         200000                       2       2024-06-01T10:00:00Z  2024-06-02T10:00:00Z  api-7d9f-1,api-7d9f-2\n",
		"  kube-system/aws-node (expiring, 8 days left): restart the pods using service account kube-system/aws-node (e.g. kubectl rollout restart on their Deployment) for another 90 days, then upgrade their Kubernetes client\n",
		"3 service accounts with stale tokens: 0 rejected, 2 expiring, 1 stale",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "payments/api (") {
		t.Error("a stale subject got a to-do line")
	}
	for _, want := range []string{
		"events.jsonl: 4 malformed lines skipped\n",
		"events.jsonl:6: malformed stale-token annotation",
		"eventlist.json:89: malformed stale-token annotation",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestStaleTokensCSV(t *testing.T) {
	code, out, _ := runCLI(t, "", "stale-tokens", "-o", "csv", staleFixture("cloudwatch-flattened.jsonl"), staleFixture("cloudwatch.jsonl"))
	if code != exitFindings {
		t.Errorf("exit %d", code)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		staletoken.CSVHeader,
		{"expiring", "ci", "runner", "system:serviceaccount:ci:runner", "9", "785993", "6990007", "6986400", "2", "2024-06-12T00:00:00Z", "2024-06-13T00:00:00Z", "runner-abc runner-def", "0"},
		{"stale", "data", "etl", "system:serviceaccount:data:etl", "55", "4772393", "3003607", "3000000", "2", "2024-06-10T08:00:00Z", "2024-06-11T09:30:00Z", "etl-job-abc", "0"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("csv\n got %q\nwant %q", rows, want)
	}
}

func TestStaleTokensExitCodes(t *testing.T) {
	oldEvent := `{"kind":"Event","stageTimestamp":"2024-06-01T00:00:00Z","annotations":{"authentication.k8s.io/stale-token":"subject: system:serviceaccount:a:b, seconds after warning threshold: 100."}}` + "\n"
	plain := `{"kind":"Event","stageTimestamp":"2024-06-01T00:00:00Z","annotations":{}}` + "\n"
	tests := []struct {
		name    string
		stdin   string
		args    []string
		code    int
		stdout  string
		stderrs []string
	}{
		{"stale only: 0", oldEvent, []string{"-"}, exitOK, "stale   a          b                89 ", nil},
		{"nothing stale: 0", plain, []string{"-"}, exitOK, "No stale-token events in 1 audit event in 1 file.", nil},
		{"empty stdin: 0", "", []string{"-"}, exitOK, "No stale-token events in 0 audit events in 1 file.", nil},
		{"short cutoff makes it rejected: 1", oldEvent, []string{"--max-token-age", "3700", "-"}, exitFindings, "rejected", nil},
		{"cutoff in days", oldEvent, []string{"--max-token-age=1d", "-"}, exitFindings, "expiring", nil},
		{"cutoff as a duration", oldEvent, []string{"--max-token-age=2160h", "--warn-within", "14d", "-"}, exitOK, "stale", nil},
		{"wide warning: 1", oldEvent, []string{"--warn-within", "2160h", "-"}, exitFindings, "expiring", nil},
		{"warning off", oldEvent, []string{"--warn-within", "0", "--max-token-age", "2h", "-"}, exitOK, "stale", nil},
		{"--now 89 days later: 1", oldEvent, []string{"--now", "2024-08-29T00:00:00Z", "-"}, exitFindings, "time left as of 2024-08-29T00:00:00Z", nil},
		{"--now 91 days later: rejected", oldEvent, []string{"-", "--now=2024-08-31T00:00:00Z"}, exitFindings, "past the cutoff: its requests are rejected", nil},

		{"PNG: 2 naming it, other results printed", "", []string{staleFixture("image.png"), staleFixture("events.jsonl")}, exitUsage,
			"expiring  kube-system", []string{"image.png: not an audit log: it starts with", "events.jsonl:4:"}},
		{"not audit JSON: 2", "", []string{staleFixture("events.jsonl"), staleFixture("not-audit.json")}, exitUsage,
			"aws-node", []string{"not-audit.json: not an audit log: line 1 is JSON but not an audit Event"}},
		{"missing file: 2", "", []string{"does-not-exist.log", staleFixture("events.jsonl")}, exitUsage,
			"aws-node", []string{"does-not-exist.log: no such file or directory"}},
		{"bad -o: 2", "", []string{"-o", "yaml", "-"}, exitUsage, "", []string{`-o "yaml" is not supported`}},
		{"bad age: 2", "", []string{"--max-token-age", "90 days", "-"}, exitUsage, "", []string{"invalid value"}},
		{"zero age: 2", "", []string{"--max-token-age", "0", "-"}, exitUsage, "", []string{"must be positive"}},
		{"bad --now: 2", "", []string{"--now", "yesterday", "-"}, exitUsage, "", []string{"not an RFC 3339 time"}},
		{"unknown flag: 2", "", []string{"--since", "1h", "-"}, exitUsage, "", []string{"flag provided but not defined"}},
		{"no paths: 2", "", nil, exitUsage, "", []string{"give at least one"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.stdin, append([]string{"stale-tokens"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout %s\nstderr %s", code, tt.code, out, errOut)
			}
			if !strings.Contains(out, tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, out)
			}
			for _, want := range tt.stderrs {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
		})
	}
}

func TestStaleTokensUnrecognisedJSON(t *testing.T) {
	code, out, errOut := runCLI(t, "", "stale-tokens", "-o", "json", staleFixture("image.png"), staleFixture("events.jsonl"))
	if code != exitUsage {
		t.Errorf("exit %d", code)
	}
	r := decodeStale(t, out)
	if len(r.Subjects) != 2 || len(r.Files) != 2 || !strings.Contains(r.Files[0].Error, "not an audit log") || r.Files[1].Error != "" {
		t.Errorf("%+v", r)
	}
	if !strings.Contains(errOut, "image.png") {
		t.Errorf("stderr does not name the file: %s", errOut)
	}
}

func TestStaleTokensDirectory(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"events.jsonl", "rotated-audit.log"} {
		b, err := os.ReadFile(staleFixture(name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "sub", name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ".hidden"), []byte("not a log"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "", "stale-tokens", "-o", "json", dir)
	if code != exitFindings {
		t.Errorf("exit %d: %s", code, errOut)
	}
	r := decodeStale(t, out)
	// The gzip copy holds the same requests: counted once.
	if len(r.Files) != 2 || r.Subjects[0].Events != 1 || r.Files[1].Duplicates != 3 {
		t.Errorf("%+v", r)
	}
}

// The real-world samples, as a directory: every shape is read, the legacy
// log is refused naming the file, its line and the flag to set, and the
// stages of one request seen in several exports count once.
func TestStaleTokensRealWorld(t *testing.T) {
	names, err := filepath.Glob(filepath.Join(staleDir, "realworld", "*"))
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"stale-tokens"}
	for _, n := range names {
		if filepath.Base(n) != "README.md" {
			args = append(args, n)
		}
	}
	code, out, errOut := runCLI(t, "", args...)
	if code != exitUsage {
		t.Errorf("exit %d, want %d (the legacy log)", code, exitUsage)
	}
	for _, want := range []string{
		"legacy-format.log: not an audit log: line 1 is in kube-apiserver's legacy text audit format (--audit-log-format=legacy), which does not record annotations",
		"set --audit-log-format=json",
		"crlf-bom-truncated.jsonl:5: invalid JSON: the line is cut short or corrupt",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	for _, want := range []string{
		"rejected  kube-system  aws-node         -1         7772400",
		"stale     monitoring   prometheus       32         5000010                      2 ",
		"stale     team-a       my.app-sa        89         120                          1 ",
		"4 service accounts with stale tokens: 1 rejected, 0 expiring, 3 stale",
		"more stages of the same requests counted once",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
}
