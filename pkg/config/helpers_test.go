package config

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// header starts every test document.
const header = "apiVersion: tokenguard.io/v1alpha1\nkind: TokenGuardConfiguration\n"

// mustParse parses header+body and fails the test on an error.
func mustParse(t testing.TB, body string) *Configuration {
	t.Helper()
	c, err := Parse([]byte(header+body), "test.yaml")
	if err != nil {
		t.Fatalf("Parse:\n%s\nerror: %v", body, err)
	}
	return c
}

// wantErr checks that err is not nil and contains every substring.
func wantErr(t testing.TB, err error, subs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", subs)
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not contain %q:\n%v", s, err)
		}
	}
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
