package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// TestVersion: what a bug report needs, the release and the embedded
// catalog's version, first.
func TestVersion(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"version"}, nil, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	c, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 2 || lines[0] != "tokenguard "+version || lines[1] != "catalog    "+c.Version() {
		t.Errorf("version output:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "go         go1.") {
		t.Errorf("no Go version:\n%s", out.String())
	}
}
