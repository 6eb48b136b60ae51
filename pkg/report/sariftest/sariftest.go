// Package sariftest validates SARIF logs against the OASIS SARIF 2.1.0
// JSON schema (pkg/report/testdata/sarif-schema-2.1.0.json), for the tests
// of pkg/report and of `tokenguard check -o sarif`. It is not linked into
// the binary.
package sariftest

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schema compiles the schema once.
var schema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	_, here, _, _ := runtime.Caller(0)
	f, err := os.Open(filepath.Join(filepath.Dir(here), "..", "testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("sarif-schema-2.1.0.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("sarif-schema-2.1.0.json")
})

// Validate returns why log is not a valid SARIF 2.1.0 log (not JSON, or
// against the schema), or nil.
func Validate(log []byte) error {
	sch, err := schema()
	if err != nil {
		return err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(log))
	if err != nil {
		return err
	}
	return sch.Validate(doc)
}
