package policy_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"testing"
	"testing/fstest"

	"sigs.k8s.io/yaml"

	"github.com/tokenguard/tokenguard/pkg/imageref"
	"github.com/tokenguard/tokenguard/pkg/policy"
)

// fixtureDir holds one fixture file per catalog rule; its README.md
// describes the format. The fixtures are the only place the tests know
// what a rule matches and where its minimum lies: adding a rule means a
// catalog entry plus a fixture.
const fixtureDir = "testdata/rules"

// fixtureFile names the fixture of a rule: the id with "/", ":" and "#"
// replaced by "_" and "@" dropped, plus ".yaml" ("k8s.io/client-go" ->
// "k8s.io_client-go.yaml", "@kubernetes/client-node" ->
// "kubernetes_client-node.yaml", "pypi:botocore#irsa" ->
// "pypi_botocore_irsa.yaml").
func fixtureFile(id string) string {
	return strings.NewReplacer("/", "_", ":", "_", "#", "_", "@", "").Replace(id) + ".yaml"
}

// ruleFixture is one fixture file.
type ruleFixture struct {
	// Rule repeats the rule id, so a fixture renamed or copied to another
	// rule's name is caught.
	Rule string `json:"rule"`
	// NoPassingVersion says why no version passes the rule; only then may
	// the fixture lack an ok case.
	NoPassingVersion string        `json:"noPassingVersion,omitempty"`
	Cases            []fixtureCase `json:"cases"`
}

// fixtureCase is one input and the verdict the rule must give it. Add-on
// cases give an image (plus labels and the control-plane version when the
// rule needs them); SDK cases give a package found in the image's SBOM.
type fixtureCase struct {
	Name         string            `json:"name"`
	Image        string            `json:"image,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	ControlPlane string            `json:"controlPlane,omitempty"`
	Package      *fixturePackage   `json:"package,omitempty"`
	// Credentials is how the container gets AWS credentials, for aws-sdk
	// rules: "irsa" or "pod-identity" (set in its environment as the EKS
	// webhooks do), or "" for none.
	Credentials string         `json:"credentials,omitempty"`
	Want        policy.Verdict `json:"want"`
	// Advisory says that a too-old finding must be advisory (warns, never
	// denies).
	Advisory bool `json:"advisory,omitempty"`
}

// fixturePackage is a purl identity and version, as policy.Package holds it.
type fixturePackage struct {
	Type      string `json:"type"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Version   string `json:"version"`
}

// sdkImage is the application image SDK cases are found in; it matches no
// add-on rule. sbomSource is where the package is said to be found.
const (
	sdkImage   = "registry.example.com/acme/app:1.0.0"
	sbomSource = "sbom:spdx-referrer"
)

// TestRuleFixtures requires a fixture for every rule of the embedded catalog
// and none for a rule that does not exist, then runs every case through
// Catalog.Evaluate and checks the finding's component, verdict and version.
func TestRuleFixtures(t *testing.T) {
	c, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatalf("embedded catalog: %v", err)
	}
	fsys := os.DirFS(fixtureDir)
	for _, p := range fixtureProblems(ruleIDs(c), fsys) {
		t.Error(p)
	}
	for _, r := range c.Rules() {
		name := fixtureFile(r.ID)
		t.Run(strings.TrimSuffix(name, ".yaml"), func(t *testing.T) {
			data, err := fs.ReadFile(fsys, name)
			if errors.Is(err, fs.ErrNotExist) {
				t.Skipf("no fixture (reported above)")
			}
			if err != nil {
				t.Fatal(err)
			}
			var fx ruleFixture
			if err := yaml.UnmarshalStrict(data, &fx); err != nil {
				t.Fatalf("%s/%s: %v", fixtureDir, name, err)
			}
			if !checkFixture(t, r, name, &fx) {
				return
			}
			for _, tc := range fx.Cases {
				t.Run(tc.Name, func(t *testing.T) { runRuleCase(t, c, r, tc) })
			}
		})
	}
}

func ruleIDs(c *policy.Catalog) []string {
	ids := make([]string, 0, len(c.Rules()))
	for _, r := range c.Rules() {
		ids = append(ids, r.ID)
	}
	return ids
}

// fixtureProblems compares the rule ids with the files of fsys: a rule
// without a fixture, two rules sharing a file name, and a file that belongs
// to no rule are problems. README.md is the only other file allowed.
func fixtureProblems(ids []string, fsys fs.FS) []string {
	var problems []string
	owner := make(map[string]string, len(ids))
	for _, id := range ids {
		name := fixtureFile(id)
		if other, dup := owner[name]; dup {
			problems = append(problems, fmt.Sprintf("rules %q and %q share the fixture name %s/%s", other, id, fixtureDir, name))
			continue
		}
		owner[name] = id
		if _, err := fs.Stat(fsys, name); err != nil {
			problems = append(problems, fmt.Sprintf("rule %q has no fixture: add %s/%s (format in %s/README.md)", id, fixtureDir, name, fixtureDir))
		}
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return append(problems, fmt.Sprintf("reading %s: %v", fixtureDir, err))
	}
	for _, e := range entries {
		if _, ok := owner[e.Name()]; ok || e.Name() == "README.md" {
			continue
		}
		problems = append(problems, fmt.Sprintf("%s/%s is the fixture of no catalog rule: remove it, or rename it after its rule id as %s/README.md says", fixtureDir, e.Name(), fixtureDir))
	}
	return problems
}

// checkFixture reports a fixture that does not fit its rule, and whether
// its cases can run.
func checkFixture(t *testing.T, r *policy.Rule, file string, fx *ruleFixture) bool {
	t.Helper()
	ok := true
	fail := func(format string, args ...any) {
		t.Errorf("%s/%s: "+format, append([]any{fixtureDir, file}, args...)...)
		ok = false
	}
	if fx.Rule != r.ID {
		fail("names rule %q, want %q", fx.Rule, r.ID)
	}
	if r.Kind != policy.KindAddon && r.Kind != policy.KindSDK && r.Kind != policy.KindAWSSDK {
		fail("rule kind %q: the test cannot build cases for it", r.Kind)
		return false
	}
	count := map[policy.Verdict]int{}
	seen := map[string]bool{}
	for i, tc := range fx.Cases {
		switch {
		case tc.Name == "":
			fail("cases[%d] has no name", i)
		case seen[tc.Name]:
			fail("cases[%d]: name %q used twice", i, tc.Name)
		case strings.Contains(tc.Name, "/"):
			fail("cases[%d]: name %q has a \"/\", which splits go test -run patterns", i, tc.Name)
		}
		seen[tc.Name] = true
		switch tc.Want {
		case policy.VerdictOK, policy.VerdictTooOld, policy.VerdictUnknown:
			count[tc.Want]++
		case policy.VerdictNotApplicable:
			count[tc.Want]++
			if r.Kind != policy.KindAWSSDK {
				fail("cases[%d] (%s): only aws-sdk cases may want not-applicable", i, tc.Name)
			}
		default:
			fail("cases[%d] (%s): want %q, not ok, too-old or unknown", i, tc.Name, tc.Want)
		}
		if r.Kind == policy.KindAddon && (tc.Image == "" || tc.Package != nil) {
			fail("cases[%d] (%s): an addon case gives an image and no package", i, tc.Name)
		}
		if r.Kind != policy.KindAddon && (tc.Package == nil || tc.Image != "" || tc.Labels != nil || tc.ControlPlane != "") {
			fail("cases[%d] (%s): an sdk case gives a package only", i, tc.Name)
		}
		if r.Kind == policy.KindAWSSDK && tc.Want != policy.VerdictNotApplicable && tc.Credentials != r.Credentials {
			fail("cases[%d] (%s): credentials %q, want the rule's %q (or want not-applicable)", i, tc.Name, tc.Credentials, r.Credentials)
		}
		if r.Kind != policy.KindAWSSDK && tc.Credentials != "" {
			fail("cases[%d] (%s): only aws-sdk cases give credentials", i, tc.Name)
		}
	}
	if count[policy.VerdictTooOld] == 0 {
		fail("no too-old case")
	}
	if r.Kind == policy.KindAWSSDK && count[policy.VerdictNotApplicable] == 0 {
		fail("no not-applicable case (a container without the rule's credentials)")
	}
	switch {
	case fx.NoPassingVersion == "" && count[policy.VerdictOK] == 0:
		fail("no ok case (if no version passes the rule, say why in noPassingVersion)")
	case fx.NoPassingVersion != "" && count[policy.VerdictOK] > 0:
		fail("noPassingVersion is set, yet %d cases want ok", count[policy.VerdictOK])
	}
	return ok
}

// runRuleCase evaluates a one-container pod for the case and checks the
// finding's fields.
func runRuleCase(t *testing.T, c *policy.Catalog, r *policy.Rule, tc fixtureCase) {
	image := tc.Image
	if tc.Package != nil {
		image = sdkImage
	}
	ref, err := imageref.Parse(image)
	if err != nil {
		t.Fatalf("image %q: %v", image, err)
	}
	ev := &policy.Evidence{Ref: ref, Labels: tc.Labels}
	if p := tc.Package; p != nil {
		ev.Packages = []policy.Package{{Type: p.Type, Namespace: p.Namespace, Name: p.Name, Version: p.Version, Source: sbomSource}}
	}
	var opts policy.Options
	if tc.ControlPlane != "" {
		v, err := policy.ParseKubeVersion(tc.ControlPlane)
		if err != nil {
			t.Fatalf("controlPlane: %v", err)
		}
		opts.ControlPlane = &v
	}
	pod := &policy.PodSpec{Containers: []policy.Container{{Name: "c", Image: image, Env: credentialsEnv(tc.Credentials)}}}
	found := c.Evaluate(pod, []*policy.Evidence{ev}, opts)
	var f policy.Finding
	n := 0
	for _, g := range found {
		if g.Component == r.ID {
			f, n = g, n+1
		}
	}
	if n != 1 {
		t.Fatalf("%d findings for rule %q, want 1: %+v", n, r.ID, found)
	}
	if f.Verdict != tc.Want {
		t.Errorf("verdict %s, want %s (version %q from %q, minimum %q)", f.Verdict, tc.Want, f.Version, f.Source, r.Minimum)
	}
	if got := f.Verdict == policy.VerdictTooOld && f.Advisory != ""; got != tc.Advisory {
		t.Errorf("advisory %v (%q), want %v", got, f.Advisory, tc.Advisory)
	}
	switch {
	case tc.Package != nil:
		if f.Version != tc.Package.Version || f.Source != sbomSource {
			t.Errorf("version %q from %q, want %q from %q", f.Version, f.Source, tc.Package.Version, sbomSource)
		}
	case ref.Tag != "" && tc.Labels == nil:
		if f.Version != ref.Tag {
			t.Errorf("version %q, want the tag %q", f.Version, ref.Tag)
		}
	}
}

// credentialsEnv is the environment the EKS webhooks inject for a
// credential mechanism.
func credentialsEnv(credentials string) []policy.EnvVar {
	switch credentials {
	case policy.CredentialsIRSA:
		return []policy.EnvVar{
			{Name: "AWS_ROLE_ARN", Value: "arn:aws:iam::111122223333:role/app"},
			{Name: "AWS_WEB_IDENTITY_TOKEN_FILE", Value: "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"},
		}
	case policy.CredentialsPodIdentity:
		return []policy.EnvVar{
			{Name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", Value: "http://169.254.170.23/v1/credentials"},
			{Name: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", Value: "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"},
		}
	}
	return nil
}

// TestRuleFixtureCoverageCanFail proves that the coverage check names a
// rule without a fixture and a fixture without a rule.
func TestRuleFixtureCoverageCanFail(t *testing.T) {
	c, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	dir := os.DirFS(fixtureDir)
	const bogus = "example.com/no-such-rule"
	t.Run("rule without fixture", func(t *testing.T) {
		got := fixtureProblems(append(ruleIDs(c), bogus), dir)
		want := fmt.Sprintf("rule %q has no fixture: add %s", bogus, path.Join(fixtureDir, "example.com_no-such-rule.yaml"))
		if !hasProblem(got, want) {
			t.Errorf("problems %q, want one starting %q", got, want)
		}
	})
	t.Run("fixture without rule", func(t *testing.T) {
		fsys := fstest.MapFS{"orphan.yaml": {Data: []byte("rule: orphan\n")}}
		entries, err := fs.ReadDir(dir, ".")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			fsys[e.Name()] = &fstest.MapFile{}
		}
		got := fixtureProblems(ruleIDs(c), fsys)
		want := path.Join(fixtureDir, "orphan.yaml") + " is the fixture of no catalog rule"
		if !hasProblem(got, want) {
			t.Errorf("problems %q, want one starting %q", got, want)
		}
	})
}

func hasProblem(problems []string, prefix string) bool {
	for _, p := range problems {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}
