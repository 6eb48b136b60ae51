package main

import (
	"os/exec"
	"strings"
	"testing"
)

// forbiddenDeps are client-go's generated packages (and their
// subpackages), which register every API group of Kubernetes: linked, they
// add about 15 MB to the binary and 9 MB to the idle RSS (issue #8).
// pkg/kube has what tokenguard needs.
var forbiddenDeps = []string{
	"k8s.io/client-go/kubernetes", // with kubernetes/scheme and kubernetes/typed/...
	"k8s.io/client-go/informers",
	"k8s.io/client-go/listers",
	"k8s.io/client-go/discovery",
	"k8s.io/client-go/applyconfigurations", // the clientset's apply types
	"k8s.io/client-go/gentype",             // the clientset's generic typed clients
}

func forbidden(pkg string) bool {
	for _, f := range forbiddenDeps {
		if pkg == f || strings.HasPrefix(pkg, f+"/") {
			return true
		}
	}
	return false
}

// TestBinaryDependencies fails when the shipped binary links a package of
// forbiddenDeps, naming the packages that import it.
func TestBinaryDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go tool is not on the PATH: cannot list the binary's dependencies")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", ".").Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("go list -deps .: %v\n%s", err, msg)
	}
	importers := map[string][]string{}
	var deps []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		deps = append(deps, fields[0])
		for _, imp := range fields[1:] {
			importers[imp] = append(importers[imp], fields[0])
		}
	}
	if len(deps) < 50 {
		t.Fatalf("go list -deps listed only %d packages:\n%s", len(deps), out)
	}
	var linked []string
	reported := false
	for _, d := range deps {
		if !forbidden(d) {
			continue
		}
		linked = append(linked, d)
		// The importers outside the forbidden set hold the import to remove.
		var outside []string
		for _, imp := range importers[d] {
			if !forbidden(imp) {
				outside = append(outside, imp)
			}
		}
		if len(outside) > 0 {
			reported = true
			t.Errorf("the binary links %s, imported by %s: use pkg/kube instead (the clientset, its informers, listers and discovery client register every API group of Kubernetes)",
				d, strings.Join(outside, ", "))
		}
	}
	if len(linked) > 0 {
		if !reported {
			t.Errorf("the binary links %s", strings.Join(linked, ", "))
		}
		t.Logf("forbidden packages linked: %d (%s ...)", len(linked), linked[0])
	}
}
