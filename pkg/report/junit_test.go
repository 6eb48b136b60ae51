package report

import (
	"bytes"
	"encoding/xml"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// junitDoc is the JUnit XML as a reader (Jenkins, GitLab) sees it.
type junitDoc struct {
	XMLName xml.Name `xml:"testsuites"`
	Name    string   `xml:"name,attr"`
	Suites  []struct {
		Name     string `xml:"name,attr"`
		File     string `xml:"file,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Cases    []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			File      string `xml:"file,attr"`
			Line      int    `xml:"line,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Body    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
			} `xml:"error"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
			SystemOut string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// rootCounts reads the <testsuites> counts (one attribute each).
func rootCounts(t *testing.T, b []byte) (tests, failures, errors, skipped int) {
	t.Helper()
	var root struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Skipped  int `xml:"skipped,attr"`
	}
	if err := xml.Unmarshal(b, &root); err != nil {
		t.Fatal(err)
	}
	return root.Tests, root.Failures, root.Errors, root.Skipped
}

// wellFormed reads every token of b: encoding/xml's decoder fails on XML
// that is not well-formed (unbalanced tags, bad entities, characters XML
// does not allow).
func wellFormed(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func fixtureJUnit(t *testing.T, failOn policy.Verdict) []byte {
	t.Helper()
	rs, errs := ciFixture()
	var b bytes.Buffer
	if err := WriteJUnit(&b, reportOf(rs, errs, nil), JUnitOptions{FailOn: failOn}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func decodeJUnit(t *testing.T, b []byte) junitDoc {
	t.Helper()
	if err := wellFormed(b); err != nil {
		t.Fatalf("not well-formed XML: %v\n%s", err, b)
	}
	var d junitDoc
	if err := xml.Unmarshal(b, &d); err != nil {
		t.Fatalf("not JUnit XML: %v\n%s", err, b)
	}
	return d
}

func TestJUnitGolden(t *testing.T) {
	golden(t, "fixture.junit.xml", fixtureJUnit(t, ""))
}

// TestJUnitWellFormedAndCounted: the XML parses, every count attribute
// agrees with the elements it counts, and the hostile text of the fixture
// (quotes, <, &, "]]>", a control character) comes back as written, the
// control character as U+FFFD.
func TestJUnitWellFormedAndCounted(t *testing.T) {
	b := fixtureJUnit(t, "")
	if !bytes.HasPrefix(b, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
		t.Errorf("no XML declaration: %.60s", b)
	}
	// A document with a broken tag is refused: the check can fail.
	if err := wellFormed(bytes.Replace(b, []byte("</testsuite>"), []byte("</testsuit>"), 1)); err == nil {
		t.Fatal("wellFormed accepted a mismatched end tag")
	}
	d := decodeJUnit(t, b)
	var sum junitCounts
	for _, s := range d.Suites {
		var n junitCounts
		for _, c := range s.Cases {
			n.tests++
			switch {
			case c.Failure != nil:
				n.failures++
			case c.Error != nil:
				n.errors++
			case c.Skipped != nil:
				n.skipped++
			}
		}
		if n != (junitCounts{s.Tests, s.Failures, s.Errors, s.Skipped}) {
			t.Errorf("suite %q: attributes say %d/%d/%d/%d, elements %+v", s.Name, s.Tests, s.Failures, s.Errors, s.Skipped, n)
		}
		sum.tests += n.tests
		sum.failures += n.failures
		sum.errors += n.errors
		sum.skipped += n.skipped
	}
	tests, failures, errors, skipped := rootCounts(t, b)
	if sum != (junitCounts{tests, failures, errors, skipped}) {
		t.Errorf("<testsuites>: attributes say %d/%d/%d/%d, suites add up to %+v", tests, failures, errors, skipped, sum)
	}
	rs, _ := ciFixture()
	var hostile string
	for _, s := range d.Suites {
		for _, c := range s.Cases {
			if strings.HasPrefix(c.Name, "side") {
				hostile = c.Skipped.Message
			}
		}
	}
	want := "unknown: " + strings.ReplaceAll(rs[0].Findings[2].Message(), "\x01", "\uFFFD")
	if hostile != want {
		t.Errorf("escaped text did not come back:\ngot  %q\nwant %q", hostile, want)
	}
}

// TestJUnitCases: what each finding becomes, with --fail-on too-old and
// unknown, and where it points.
func TestJUnitCases(t *testing.T) {
	type want struct{ outcome, file string }
	tests := []struct {
		failOn policy.Verdict
		want   map[string]want // by suite and case name
	}{
		{policy.VerdictTooOld, map[string]want{
			"Job unplaced|t: legacy-token-secret (volume token)":                     {"failure:too-old", ""},
			"Pod dev/exempted|old: coredns":                                          {"skipped:exempt", "manifests/my apps.yaml:50"},
			"Pod dev/exempted|quiet: client-sdk-evidence":                            {"skipped:not-applicable", "manifests/my apps.yaml:50"},
			"DaemonSet kube-system/coredns|coredns: coredns":                         {"passed", "/abs/addons.yaml:19"},
			"Deployment prod/api|api: k8s.io/client-go":                              {"failure:too-old", "manifests/my apps.yaml:41"},
			"Deployment prod/api|api: pypi:botocore#pod-identity":                    {"skipped:unknown", "manifests/my apps.yaml:41"},
			"Deployment prod/api|side\uFFFDcar: client-sdk-evidence":                 {"skipped:unknown", "manifests/my apps.yaml:44"},
			"Deployment prod/irsa|pod: irsa-token-expiration (volume aws-iam-token)": {"failure:too-old", ""},
			"Deployment prod/irsa|x: example.com/not-in-catalog":                     {"skipped:unknown", ""},
			"input errors|manifests/broken.yaml: document 4":                         {"error", "manifests/broken.yaml:0"},
			"input errors|-: document 2":                                             {"error", ""},
		}},
		{policy.VerdictUnknown, map[string]want{
			"Deployment prod/api|api: pypi:botocore#pod-identity":    {"failure:unknown", "manifests/my apps.yaml:41"},
			"Deployment prod/api|side\uFFFDcar: client-sdk-evidence": {"failure:unknown", "manifests/my apps.yaml:44"},
			"Pod dev/exempted|old: coredns":                          {"skipped:exempt", "manifests/my apps.yaml:50"},
			"Pod dev/exempted|quiet: client-sdk-evidence":            {"skipped:not-applicable", "manifests/my apps.yaml:50"},
		}},
	}
	for _, tt := range tests {
		t.Run("fail-on "+string(tt.failOn), func(t *testing.T) {
			d := decodeJUnit(t, fixtureJUnit(t, tt.failOn))
			got := map[string]want{}
			for _, s := range d.Suites {
				for _, c := range s.Cases {
					outcome := "passed"
					switch {
					case c.Failure != nil:
						outcome = "failure:" + c.Failure.Type
						if c.Failure.Message == "" || !strings.Contains(c.Failure.Body, "workload: ") {
							t.Errorf("%s: failure without message or details: %+v", c.Name, c.Failure)
						}
					case c.Error != nil:
						outcome = "error"
					case c.Skipped != nil:
						outcome = "skipped:" + strings.SplitN(strings.SplitN(c.Skipped.Message, ":", 2)[0], " ", 2)[0]
					case c.SystemOut == "":
						t.Errorf("%s: a passing case without its message", c.Name)
					}
					file := ""
					if c.File != "" {
						file = c.File + ":" + strconv.Itoa(c.Line)
					}
					got[s.Name+"|"+c.Name] = want{outcome, file}
				}
			}
			for k, w := range tt.want {
				if g, ok := got[k]; !ok {
					t.Errorf("no case %q; cases: %v", k, got)
				} else if g != w {
					t.Errorf("%s: got %+v, want %+v", k, g, w)
				}
			}
			if tt.failOn == policy.VerdictTooOld && len(got) != len(tt.want) {
				t.Errorf("cases: got %d, want %d: %v", len(got), len(tt.want), got)
			}
		})
	}
}

// TestJUnitSpoolMatchesReport: a spool writes what the Report writes.
func TestJUnitSpoolMatchesReport(t *testing.T) {
	defer func(n int) { spoolRunResults = n }(spoolRunResults)
	spoolRunResults = 2
	rs, errs := ciFixture()
	var want, got bytes.Buffer
	if err := WriteJUnit(&want, reportOf(rs, errs, nil), JUnitOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := spoolOf(t, rs, errs, nil).WriteJUnit(&got, JUnitOptions{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Errorf("spool and report differ\n--- spool\n%s\n--- report\n%s", got.Bytes(), want.Bytes())
	}
}
