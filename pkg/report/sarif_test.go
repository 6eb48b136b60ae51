package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/report/sariftest"
)

// validateSARIF validates a log against the SARIF 2.1.0 schema.
func validateSARIF(t *testing.T, log []byte) error {
	t.Helper()
	return sariftest.Validate(log)
}

// sarifLog is the part of a SARIF log the tests read.
type sarifLog struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name           string      `json:"name"`
				Version        string      `json:"version"`
				InformationURI string      `json:"informationUri"`
				Rules          []sarifRule `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Invocations []struct {
			ExecutionSuccessful        bool                `json:"executionSuccessful"`
			ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications"`
		} `json:"invocations"`
		Results []sarifResult `json:"results"`
	} `json:"runs"`
}

func decodeSARIF(t *testing.T, b []byte) sarifLog {
	t.Helper()
	var l sarifLog
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	if len(l.Runs) != 1 {
		t.Fatalf("runs: got %d, want 1", len(l.Runs))
	}
	return l
}

func fixtureSARIF(t *testing.T) []byte {
	t.Helper()
	rs, errs := ciFixture()
	var b bytes.Buffer
	if err := WriteSARIF(&b, reportOf(rs, errs, nil), SARIFOptions{Version: "v1.2.3"}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSARIFGolden(t *testing.T) {
	golden(t, "fixture.sarif", fixtureSARIF(t))
}

// TestSARIFSchema: the log is valid SARIF 2.1.0, and the validator does
// reject a log that is not (a level the schema does not know, a result
// without a message).
func TestSARIFSchema(t *testing.T) {
	log := fixtureSARIF(t)
	if err := validateSARIF(t, log); err != nil {
		t.Fatalf("the log is not valid SARIF 2.1.0: %v", err)
	}
	var empty bytes.Buffer
	if err := WriteSARIF(&empty, reportOf(nil, nil, nil), SARIFOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := validateSARIF(t, empty.Bytes()); err != nil {
		t.Errorf("a log without results is not valid SARIF 2.1.0: %v\n%s", err, empty.Bytes())
	}
	for _, broken := range []struct{ from, to string }{
		{`"level": "error"`, `"level": "fatal"`},
		{`"message": {`, `"notMessage": {`},
		{`"startLine": 41`, `"startLine": 0`},
	} {
		bad := bytes.Replace(log, []byte(broken.from), []byte(broken.to), 1)
		if bytes.Equal(bad, log) {
			t.Fatalf("the fixture's log has no %s", broken.from)
		}
		if err := validateSARIF(t, bad); err == nil {
			t.Errorf("the schema accepted a log with %s instead of %s", broken.to, broken.from)
		}
	}
}

// TestSARIFSpoolMatchesReport: a spool past its in-memory run writes the
// same log as the Report of the same results.
func TestSARIFSpoolMatchesReport(t *testing.T) {
	defer func(n int) { spoolRunResults = n }(spoolRunResults)
	spoolRunResults = 2
	rs, errs := ciFixture()
	var want, got bytes.Buffer
	if err := WriteSARIF(&want, reportOf(rs, errs, nil), SARIFOptions{Version: "v1"}); err != nil {
		t.Fatal(err)
	}
	if err := spoolOf(t, rs, errs, nil).WriteSARIF(&got, SARIFOptions{Version: "v1"}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Errorf("spool and report differ\n--- spool\n%s\n--- report\n%s", got.Bytes(), want.Bytes())
	}
}

// TestSARIFResults: which findings are results, at which level, where.
func TestSARIFResults(t *testing.T) {
	l := decodeSARIF(t, fixtureSARIF(t))
	run := l.Runs[0]
	if l.Version != "2.1.0" || run.Tool.Driver.Name != "tokenguard" || run.Tool.Driver.Version != "v1.2.3" ||
		!strings.HasPrefix(run.Tool.Driver.InformationURI, "https://") {
		t.Errorf("log header: version %q, driver %q %q %q", l.Version, run.Tool.Driver.Name, run.Tool.Driver.Version, run.Tool.Driver.InformationURI)
	}
	type want struct {
		rule, level, uri string
		line             int
		suppressed       bool
	}
	wants := []want{
		// Finish's order: namespace "", then dev, kube-system, prod.
		{policy.ComponentLegacyTokenSecret, "error", "", 0, false},
		{"coredns", "error", "manifests/my%20apps.yaml", 50, true}, // exempt: the object's line, no image line known
		// coredns ok: no result
		{"k8s.io/client-go", "error", "manifests/my%20apps.yaml", 41, false},
		{"pypi:botocore#pod-identity", "warning", "manifests/my%20apps.yaml", 41, false}, // advisory: warns
		{RuleClientSDKEvidence, "warning", "manifests/my%20apps.yaml", 44, false},
		{policy.ComponentIRSATokenExpiration, "error", "", 0, false}, // stdin: no file
		{"example.com/not-in-catalog", "warning", "", 0, false},
	}
	if len(run.Results) != len(wants) {
		t.Fatalf("results: got %d, want %d (ok and not-applicable findings are no results)", len(run.Results), len(wants))
	}
	for i, w := range wants {
		r := run.Results[i]
		var uri string
		var line int
		if p := r.Locations[0].PhysicalLocation; p != nil {
			uri = p.ArtifactLocation.URI
			if p.Region != nil {
				line = p.Region.StartLine
			}
		}
		if r.RuleID != w.rule || r.Level != w.level || uri != w.uri || line != w.line || (len(r.Suppressions) > 0) != w.suppressed {
			t.Errorf("result %d: got %s %s %q line %d suppressed %v, want %s %s %q line %d suppressed %v",
				i, r.RuleID, r.Level, uri, line, len(r.Suppressions) > 0, w.rule, w.level, w.uri, w.line, w.suppressed)
		}
		if r.RuleIndex < 0 || r.RuleIndex >= len(run.Tool.Driver.Rules) || run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("result %d (%s): ruleIndex %d does not point at its rule", i, r.RuleID, r.RuleIndex)
		}
		if r.Message.Text == "" || len(r.Locations[0].LogicalLocations) != 1 {
			t.Errorf("result %d (%s): message %q, logical locations %v", i, r.RuleID, r.Message.Text, r.Locations[0].LogicalLocations)
		}
	}
	if s := run.Results[1].Suppressions; len(s) != 1 || s[0].Status != "accepted" || s[0].Justification != "namespace dev is exempt" {
		t.Errorf("exempt result's suppressions: %+v", s)
	}
	inv := run.Invocations
	if len(inv) != 1 || inv[0].ExecutionSuccessful || len(inv[0].ToolExecutionNotifications) != 2 ||
		inv[0].ToolExecutionNotifications[0].Locations[0].PhysicalLocation.ArtifactLocation.URI != "manifests/broken.yaml" {
		t.Errorf("invocations: %+v", inv)
	}
}

// TestSARIFRulesCoverCatalog: every rule of the catalog, the built-in
// rules and any rule a result names are in tool.driver.rules, once, with
// the texts code scanning shows: a short and a full description, help
// that gives the minimum and the catalog's source.
func TestSARIFRulesCoverCatalog(t *testing.T) {
	cat, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	run := decodeSARIF(t, fixtureSARIF(t)).Runs[0]
	byID := map[string]sarifRule{}
	for _, r := range run.Tool.Driver.Rules {
		if _, dup := byID[r.ID]; dup {
			t.Errorf("rule %s listed twice", r.ID)
		}
		byID[r.ID] = r
		if r.ShortDescription.Text == "" || r.FullDescription.Text == "" || r.Help.Text == "" || r.Help.Markdown == "" {
			t.Errorf("rule %s: empty description or help: %+v", r.ID, r)
		}
		switch r.DefaultConfiguration.Level {
		case "error", "warning":
		default:
			t.Errorf("rule %s: default level %q", r.ID, r.DefaultConfiguration.Level)
		}
	}
	for _, r := range cat.Rules() {
		got, ok := byID[r.ID]
		if !ok {
			t.Errorf("catalog rule %s is not in tool.driver.rules", r.ID)
			continue
		}
		if !strings.Contains(got.Help.Text, "Source: "+r.Source) {
			t.Errorf("rule %s: help does not cite the catalog's source %q:\n%s", r.ID, r.Source, got.Help.Text)
		}
		if r.Scheme != policy.SchemeKubeSkew && !strings.Contains(got.Help.Text, "Minimum: "+r.Minimum) {
			t.Errorf("rule %s: help does not give the minimum %s:\n%s", r.ID, r.Minimum, got.Help.Text)
		}
		if r.Fix != "" && !strings.Contains(got.Help.Text, r.Fix) {
			t.Errorf("rule %s: help does not give the fix %q", r.ID, r.Fix)
		}
		if r.Advisory != "" && !strings.Contains(got.Help.Text, r.Advisory) {
			t.Errorf("rule %s: help does not give the advisory %q", r.ID, r.Advisory)
		}
	}
	for _, id := range []string{RuleClientSDKEvidence, policy.ComponentTokenExpiration, policy.ComponentLegacyTokenSecret, policy.ComponentIRSATokenExpiration} {
		if _, ok := byID[id]; !ok {
			t.Errorf("built-in rule %s is not in tool.driver.rules", id)
		}
	}
	for _, r := range run.Results {
		if _, ok := byID[r.RuleID]; !ok {
			t.Errorf("result names rule %s, which tool.driver.rules does not list", r.RuleID)
		}
	}
}

// TestSARIFHelpURI: a catalog source that cites a URL gives the rule its
// helpUri; the default catalog's sources cite documents by name.
func TestSARIFHelpURI(t *testing.T) {
	doc := policy.CatalogDocument{APIVersion: policy.CatalogAPIVersion, Kind: policy.CatalogKind, Rules: []policy.RuleSpec{{
		ID: "coredns", Kind: policy.KindAddon, Match: policy.MatchSpec{Images: []string{"coredns"}}, Minimum: "1.8.4", Scheme: "semver",
		Source: "Amazon EKS User Guide (https://docs.aws.amazon.com/eks/latest/userguide/service-accounts.html), CoreDNS 1.8.4",
	}}}
	cat, err := policy.Compile(doc)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteSARIF(&b, reportOf(nil, nil, nil), SARIFOptions{Catalog: cat}); err != nil {
		t.Fatal(err)
	}
	rules := decodeSARIF(t, b.Bytes()).Runs[0].Tool.Driver.Rules
	if rules[0].ID != "coredns" || rules[0].HelpURI != "https://docs.aws.amazon.com/eks/latest/userguide/service-accounts.html" {
		t.Errorf("rule %s: helpUri %q", rules[0].ID, rules[0].HelpURI)
	}
	if len(rules) != 1+len(builtinRules()) {
		t.Errorf("rules: got %d, want the catalog's one and the %d built-in", len(rules), len(builtinRules()))
	}
}

func TestArtifactURI(t *testing.T) {
	tests := []struct{ path, want string }{
		{"examples/apps.yaml", "examples/apps.yaml"},
		{"../../examples/apps.yaml", "../../examples/apps.yaml"},
		{"my dir/a#1.yaml", "my%20dir/a%231.yaml"},
		{"c:x.yaml", "./c:x.yaml"},
		{"/abs/x.yaml", "file:///abs/x.yaml"},
	}
	for _, tt := range tests {
		if got := artifactURI(tt.path); got != tt.want {
			t.Errorf("artifactURI(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestFirstURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Amazon EKS User Guide, Kubernetes service accounts: Go v0.15.7 or later", ""},
		{"see https://example.com/a.html.", "https://example.com/a.html"},
		{"(http://example.com/x), and more", "http://example.com/x"},
	}
	for _, tt := range tests {
		if got := firstURL(tt.in); got != tt.want {
			t.Errorf("firstURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestHelpURIEveryDefaultRule: every rule of the embedded catalog gets a
// helpUri, from its source's URL or the guide page its source names.
func TestHelpURIEveryDefaultRule(t *testing.T) {
	cat, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range cat.Rules() {
		if u := helpURI(r.Source); !strings.HasPrefix(u, "https://") {
			t.Errorf("rule %s: no helpUri from source %q", r.ID, r.Source)
		}
	}
	if got := helpURI("Amazon EKS User Guide, Use Pod Identity with the AWS SDK (pod-id-minimum-sdk.adoc)"); got != "https://docs.aws.amazon.com/eks/latest/userguide/pod-id-minimum-sdk.html" {
		t.Errorf("Pod Identity page: %q", got)
	}
	if got := helpURI("ours, see https://example.com/x"); got != "https://example.com/x" {
		t.Errorf("a source's own URL first: %q", got)
	}
}
