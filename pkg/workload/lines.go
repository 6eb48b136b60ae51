package workload

import (
	"bytes"
	"strings"

	"go.yaml.in/yaml/v3"
)

// positions finds where the objects of one document (a YAML section, or
// one object of a JSON stream) sit in their file, for Visitor.Lines. The
// document is parsed a second time, into yaml.v3's node tree (which keeps
// lines; the decoding path does not), lazily: only when the document holds
// a workload, and once for all the items of a List. The tree lives until
// the next document, so memory stays bounded by MaxDocumentSize.
type positions struct {
	data   []byte
	start  int // line of the file where data's first line is
	parsed bool
	root   *yaml.Node // the document's top node; nil if data did not parse
}

// reset points p at a new document whose first line is line start of the
// file; data must stay unchanged while p is used.
func (p *positions) reset(data []byte, start int) {
	*p = positions{data: data, start: start}
}

func (p *positions) top() *yaml.Node {
	if !p.parsed {
		p.parsed = true
		var doc yaml.Node
		// A document that yaml.v3 refuses (JSON's "\/" escape, which YAML
		// lacks) keeps its workloads; they get the document's first line.
		if err := yaml.Unmarshal(p.data, &doc); err == nil && doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
			p.root = doc.Content[0]
		}
	}
	return p.root
}

// fileLine is the line of the file of a node's line in data.
func (p *positions) fileLine(n *yaml.Node) int {
	if n == nil || n.Line < 1 {
		return 0
	}
	return p.start + n.Line - 1
}

// locate sets w.Line to the line where w's object starts (item is its
// 1-based index in a List, 0 outside) and w.ImageLines to the line of each
// container's image. What cannot be found is left to the document's first
// line (Line) or out of the map.
func (p *positions) locate(w *Workload, item int) {
	w.Line = p.start
	obj := p.top()
	if item > 0 {
		obj = index(field(obj, "items"), item-1)
	}
	if obj == nil || obj.Kind != yaml.MappingNode {
		return
	}
	w.Line = p.fileLine(obj)
	spec := obj
	for _, key := range strings.Split(w.PodSpecPath(), ".") {
		spec = field(spec, key)
	}
	for _, list := range [...]string{"containers", "initContainers", "ephemeralContainers"} {
		seq := field(spec, list)
		if seq == nil || seq.Kind != yaml.SequenceNode {
			continue
		}
		for _, c := range seq.Content {
			name, image := field(c, "name"), field(c, "image")
			if name == nil || image == nil || name.Kind != yaml.ScalarNode || image.Kind != yaml.ScalarNode {
				continue
			}
			if w.ImageLines == nil {
				w.ImageLines = make(map[string]int, len(w.Pod.Containers))
			}
			if _, dup := w.ImageLines[name.Value]; !dup {
				w.ImageLines[name.Value] = p.fileLine(image)
			}
		}
	}
}

// field returns the value of key in mapping n, or nil.
func field(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// index returns element i of sequence n, or nil.
func index(n *yaml.Node, i int) *yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode || i < 0 || i >= len(n.Content) {
		return nil
	}
	return n.Content[i]
}

// lineOf is the 0-based line of offset off in data.
func lineOf(data []byte, off int) int {
	if off > len(data) {
		off = len(data)
	}
	return bytes.Count(data[:off], []byte{'\n'})
}
