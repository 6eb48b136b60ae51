package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenguard/tokenguard/test/e2e"
)

// TestCheckAWSCredentials: check judges templates as their pods will run.
// A ServiceAccount annotated eks.amazonaws.com/role-arn in the input, even
// after the Deployment that uses it, means IRSA; the JSON of `aws eks
// list-pod-identity-associations` means Pod Identity; the images' SBOMs
// in a real registry on 127.0.0.1 give the AWS SDK versions.
func TestCheckAWSCredentials(t *testing.T) {
	reg := e2e.StartRegistry()
	defer reg.Close()
	jsOld, err := reg.PushWithSBOM("acme/reports", "1.0.0", "pkg:npm/aws-sdk@2.524.0")
	if err != nil {
		t.Fatal(err)
	}
	goOld, err := reg.PushWithSBOM("acme/uploader", "5.0.0", "pkg:golang/github.com/aws/aws-sdk-go@v1.47.10")
	if err != nil {
		t.Fatal(err)
	}
	deployment := func(name, sa, image string) string {
		return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name + ", namespace: shop}\nspec:\n  template:\n    spec:\n" +
			"      serviceAccountName: " + sa + "\n      containers: [{name: app, image: " + image + "}]\n"
	}
	manifest := deployment("reports", "reports", jsOld) + "---\n" + deployment("uploader", "uploader", goOld) + "---\n" +
		"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: reports\n  namespace: shop\n  annotations: {eks.amazonaws.com/role-arn: \"arn:aws:iam::111122223333:role/reports\"}\n"
	dir := t.TempDir()
	path := filepath.Join(dir, "app.yaml")
	if err := os.WriteFile(path, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	assoc := filepath.Join(dir, "associations.json")
	if err := os.WriteFile(assoc, []byte(`{"associations": [{"clusterName": "prod", "namespace": "shop", "serviceAccount": "uploader",
		"associationArn": "arn:aws:eks:us-west-2:111122223333:podidentityassociation/prod/a-1", "associationId": "a-1"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	verdicts := func(out string) map[string]string {
		got := map[string]string{}
		for _, r := range decodeReport(t, out).Results {
			for _, f := range r.Findings {
				if strings.Contains(f.Component, "#") {
					got[r.Name+" "+f.Component] = string(f.Verdict)
				}
			}
		}
		return got
	}
	reg0 := []string{"check", "-o", "json", "--registry", "--insecure-registry", reg.Host}

	// From a file (read twice: service accounts first) and from stdin.
	for _, args := range [][]string{append(reg0, "--pod-identity-associations", assoc, path), append(reg0, "--pod-identity-associations", assoc, "-")} {
		code, out, errOut := runCLI(t, manifest, args...)
		if code != exitFindings {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		got := verdicts(out)
		for k, want := range map[string]string{
			"reports npm:aws-sdk#irsa":                        "too-old",
			"reports npm:aws-sdk#pod-identity":                "not-applicable",
			"uploader github.com/aws/aws-sdk-go#pod-identity": "too-old",
			"uploader github.com/aws/aws-sdk-go#irsa":         "not-applicable",
		} {
			if got[k] != want {
				t.Errorf("%v: %s is %q, want %s (all: %v)", args[len(args)-1], k, got[k], want, got)
			}
		}
	}
	// Without the service account and the associations, nothing applies.
	code, out, _ := runCLI(t, deployment("uploader", "uploader", goOld), append(reg0, "-")...)
	if code != exitOK {
		t.Errorf("no credentials: exit %d, want 0: %s", code, out)
	}
	if got := verdicts(out); got["uploader github.com/aws/aws-sdk-go#pod-identity"] != "not-applicable" {
		t.Errorf("no credentials: %v", got)
	}

	// A bad associations file is a usage error that names it.
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"associations": [{"namespace": "shop"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "", "check", "--pod-identity-associations", bad, path)
	if code != exitUsage || !strings.Contains(errOut, "bad.json") || !strings.Contains(errOut, "serviceAccount") {
		t.Errorf("bad associations: exit %d, %q", code, errOut)
	}
}
