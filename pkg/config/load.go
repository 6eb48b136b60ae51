package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	yamlv2 "go.yaml.in/yaml/v2"
	"sigs.k8s.io/yaml"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// Load reads, strictly decodes, defaults and validates the configuration
// file at path. Unknown and duplicate fields are errors. Every line of the
// error starts with the path and names the field:
//
//	config.yaml: catalog.minimums[coredns]: Invalid value: "1.x": ...
//
// The errors are joined (errors.Join); validation errors unwrap to
// *field.Error.
func Load(path string) (*Configuration, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return Parse(data, path)
}

// Parse is Load for a document already read; source names it in errors
// (none when empty).
func Parse(data []byte, source string) (*Configuration, error) {
	if n := countDocuments(data); n > 1 {
		return nil, withSource(source, []error{fmt.Errorf("a configuration is one YAML document, found %d", n)})
	}
	// policy.DecodeStrict misses duplicate keys in YAML (the YAML-to-JSON
	// step keeps the last one); the strict conversion reports them.
	if _, err := yaml.YAMLToJSONStrict(data); err != nil {
		return nil, withSource(source, yamlErrors(err))
	}
	var c Configuration
	if err := policy.DecodeStrict(data, &c); err != nil {
		errs := splitJoined(err)
		for i, e := range errs {
			if msg := e.Error(); strings.Contains(msg, "cannot unmarshal number") && strings.HasSuffix(msg, "of type string") {
				errs[i] = fmt.Errorf("%w (quote versions: YAML reads 1.10 as the number 1.1)", e)
			}
		}
		return nil, withSource(source, errs)
	}
	SetDefaults(&c)
	if errs := Validate(&c); len(errs) > 0 {
		list := make([]error, len(errs))
		for i, e := range errs {
			list[i] = e
		}
		return nil, withSource(source, list)
	}
	return &c, nil
}

// countDocuments counts the non-empty YAML documents in data (the
// YAML-to-JSON step reads only the first). Syntax errors stop the count:
// decoding reports them.
func countDocuments(data []byte) int {
	d := yamlv2.NewDecoder(bytes.NewReader(data))
	n := 0
	for {
		var v any
		if err := d.Decode(&v); err != nil {
			return n
		}
		if v != nil {
			n++
		}
	}
}

// yamlErrors splits a multi-line YAML error ("yaml: unmarshal errors:\n
// line 4: key \"unknown\" already set in map") into one error a line.
func yamlErrors(err error) []error {
	rest, ok := strings.CutPrefix(err.Error(), "yaml: unmarshal errors:\n")
	if !ok {
		return []error{err}
	}
	var errs []error
	for _, line := range strings.Split(rest, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		// `line 4: key "unknown" already set in map`
		if pos, msg, ok := strings.Cut(line, ": "); ok {
			if key, ok := strings.CutSuffix(msg, " already set in map"); ok {
				line = pos + ": duplicate field " + strings.TrimPrefix(key, "key ")
			}
		}
		errs = append(errs, errors.New(line))
	}
	return errs
}

// splitJoined returns the errors joined in err, or err alone.
func splitJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// withSource prefixes each error with source and joins them.
func withSource(source string, errs []error) error {
	if source == "" {
		return errors.Join(errs...)
	}
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = fmt.Errorf("%s: %w", source, e)
	}
	return errors.Join(out...)
}
