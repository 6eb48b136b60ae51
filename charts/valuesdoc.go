package charts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// ValueDoc is one documented value of values.yaml: a key with a comment
// directly above it.
type ValueDoc struct {
	// Key is the dotted path ("certManager.enabled").
	Key string
	// Default is the value in values.yaml as compact JSON; empty for a
	// map whose keys are documented one by one.
	Default string
	// Description is the comment, as one paragraph.
	Description string
}

// ValuesDocs reads the documented keys of values.yaml, in file order. The
// comment block directly above a key documents it (a block separated from
// the key by a blank line documents nothing).
func ValuesDocs(values []byte) ([]ValueDoc, error) {
	root, err := parseValues(values)
	if err != nil {
		return nil, err
	}
	var docs []ValueDoc
	var walk func(prefix string, m *yaml.Node) error
	walk = func(prefix string, m *yaml.Node) error {
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			key := prefix + k.Value
			documentedChildren := v.Kind == yaml.MappingNode && hasDocumentedKey(v)
			if desc := comment(k); desc != "" {
				d := ValueDoc{Key: key, Description: desc}
				if !documentedChildren {
					var val any
					if err := v.Decode(&val); err != nil {
						return fmt.Errorf("%s: %w", key, err)
					}
					b, err := json.Marshal(val)
					if err != nil {
						return fmt.Errorf("%s: %w", key, err)
					}
					d.Default = string(b)
				}
				docs = append(docs, d)
			}
			if documentedChildren {
				if err := walk(key+".", v); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return docs, walk("", root)
}

// Undocumented lists the keys of values.yaml that neither have a comment
// nor sit under a documented key whose default shows them.
func Undocumented(values []byte) ([]string, error) {
	root, err := parseValues(values)
	if err != nil {
		return nil, err
	}
	var missing []string
	var walk func(prefix string, m *yaml.Node)
	walk = func(prefix string, m *yaml.Node) {
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			key := prefix + k.Value
			switch {
			case v.Kind == yaml.MappingNode && hasDocumentedKey(v):
				walk(key+".", v)
			case comment(k) == "":
				missing = append(missing, key)
			}
		}
	}
	walk("", root)
	return missing, nil
}

func parseValues(values []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(values, &doc); err != nil {
		return nil, fmt.Errorf("values.yaml: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("values.yaml: not a map")
	}
	return doc.Content[0], nil
}

func hasDocumentedKey(m *yaml.Node) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if comment(m.Content[i]) != "" || m.Content[i+1].Kind == yaml.MappingNode && hasDocumentedKey(m.Content[i+1]) {
			return true
		}
	}
	return false
}

// comment is a key's head comment as one paragraph.
func comment(k *yaml.Node) string {
	var words []string
	for _, line := range strings.Split(k.HeadComment, "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "#"))
		if line != "" {
			words = append(words, line)
		}
	}
	return strings.Join(words, " ")
}

// ValuesTable renders docs as a Markdown table.
func ValuesTable(docs []ValueDoc) string {
	var b strings.Builder
	b.WriteString("| key | default | description |\n|---|---|---|\n")
	for _, d := range docs {
		def := ""
		if d.Default != "" {
			def = "`" + cell(d.Default) + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", d.Key, def, cell(d.Description))
	}
	return b.String()
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// The markers around the values table in the chart's README.md.
const (
	TableBegin = "<!-- values table: generated from values.yaml by `go generate ./charts/`; do not edit by hand -->"
	TableEnd   = "<!-- end of values table -->"
)

// WithValuesTable returns readme with the text between TableBegin and
// TableEnd replaced by table.
func WithValuesTable(readme []byte, table string) ([]byte, error) {
	begin := bytes.Index(readme, []byte(TableBegin))
	end := bytes.Index(readme, []byte(TableEnd))
	if begin < 0 || end < begin {
		return nil, fmt.Errorf("README.md has no %q ... %q markers", TableBegin, TableEnd)
	}
	var out bytes.Buffer
	out.Write(readme[:begin+len(TableBegin)])
	out.WriteString("\n\n")
	out.WriteString(table)
	out.WriteString("\n")
	out.Write(readme[end:])
	return out.Bytes(), nil
}
