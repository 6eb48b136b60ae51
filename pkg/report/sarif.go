package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"
	"slices"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// SARIF 2.1.0: the version, the schema the log names, and the project page
// (tool.driver.informationUri).
const (
	SARIFVersion   = "2.1.0"
	SARIFSchema    = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	InformationURI = "https://github.com/tokenguard/tokenguard"
)

// SARIFOptions is what a SARIF log says beside the results.
type SARIFOptions struct {
	// Catalog gives the rules: every enabled rule is listed in
	// tool.driver.rules, with the built-in token and SDK-evidence rules,
	// whether it fired or not, so that code scanning tells "ran and found
	// nothing" (and closes the alert) from "not run". Nil is the default
	// catalog.
	Catalog *policy.Catalog
	// Version is tool.driver.version, the binary's version; "" leaves it out.
	Version string
}

// WriteSARIF writes the report as a SARIF 2.1.0 log, for GitHub code
// scanning and other SARIF readers.
//
// One result per finding that needs attention: level "error" for too-old
// (what enforce would deny), "warning" for unknown and for too-old against
// an uncertain (advisory) minimum (what never denies). ok and
// not-applicable findings are not results: code scanning turns every
// result into an alert, "note" ones too, and would flood a repository with
// alerts about compliant containers; a rule listed with no result is what
// says "checked, nothing found". An exempt finding is a result with an
// accepted external suppression whose justification is the exemption, so
// it is shown as dismissed rather than open.
//
// A result points at its manifest (the path as given, as a relative URI
// when it was relative) and at the line of the container's image, else of
// the object (Result.ImageLines, Result.Line), and names the workload as a
// logical location. Input errors are tool execution notifications, and
// make executionSuccessful false.
func WriteSARIF(w io.Writer, r *Report, o SARIFOptions) error { return writeSARIF(w, r, o) }

// WriteSARIF writes what the spool holds as WriteSARIF writes a Report.
func (s *Spool) WriteSARIF(w io.Writer, o SARIFOptions) error { return writeSARIF(w, s, o) }

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string          `json:"id"`
	ShortDescription     sarifMessage    `json:"shortDescription"`
	FullDescription      sarifMessage    `json:"fullDescription"`
	Help                 sarifMessage    `json:"help"`
	HelpURI              string          `json:"helpUri,omitempty"`
	DefaultConfiguration sarifConfig     `json:"defaultConfiguration"`
	Properties           sarifRuleFields `json:"properties"`
}

type sarifMessage struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifRuleFields struct {
	Tags []string `json:"tags"`
}

type sarifNotification struct {
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

type sarifResult struct {
	RuleID       string             `json:"ruleId"`
	RuleIndex    int                `json:"ruleIndex"`
	Level        string             `json:"level"`
	Message      sarifMessage       `json:"message"`
	Locations    []sarifLocation    `json:"locations"`
	Suppressions []sarifSuppression `json:"suppressions,omitempty"`
	Properties   sarifResultFields  `json:"properties"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Justification string `json:"justification"`
}

// sarifResultFields are the finding's fields a script may want without
// parsing the message.
type sarifResultFields struct {
	Verdict   policy.Verdict `json:"verdict"`
	Reason    policy.Reason  `json:"reason,omitempty"`
	Container string         `json:"container,omitempty"`
	Image     string         `json:"image,omitempty"`
	Version   string         `json:"version,omitempty"`
	Minimum   string         `json:"minimum,omitempty"`
	Evidence  string         `json:"evidence,omitempty"`
	Workload  string         `json:"workload"`
	Document  int            `json:"document,omitempty"`
}

// sarifLevel is the level of a finding's result, "" for a finding that is
// no result (ok, not-applicable).
func sarifLevel(f *policy.Finding) string {
	switch f.Weight() {
	case policy.VerdictTooOld:
		return "error"
	case policy.VerdictUnknown:
		return "warning"
	}
	return ""
}

// ruleTable is the rules of a log: catalog rules in catalog order, the
// built-in ones, then any other a finding names, each with its index.
type ruleTable struct {
	rules []ruleInfo
	index map[string]int
}

func (t *ruleTable) add(ri ruleInfo) {
	if _, dup := t.index[ri.id]; dup {
		return
	}
	t.index[ri.id] = len(t.rules)
	t.rules = append(t.rules, ri)
}

// rulesFor lists the rules of cat and the built-in ones, and any rule a
// finding of src names that neither knows (one pass over src).
func rulesFor(cat *policy.Catalog, src source) (*ruleTable, error) {
	t := &ruleTable{index: map[string]int{}}
	if cat == nil {
		var err error
		if cat, err = policy.DefaultCatalog(); err != nil {
			return nil, err
		}
	}
	for _, r := range cat.Rules() {
		t.add(catalogRule(r))
	}
	for _, ri := range builtinRules() {
		t.add(ri)
	}
	var extra []string
	err := src.each(func(res *Result) error {
		for j := range res.Findings {
			f := &res.Findings[j]
			id := RuleID(f)
			if _, known := t.index[id]; !known && sarifLevel(f) != "" && !slices.Contains(extra, id) {
				extra = append(extra, id)
			}
		}
		return nil
	})
	slices.Sort(extra)
	for _, id := range extra {
		t.add(unknownRule(id))
	}
	return t, err
}

func (ri *ruleInfo) sarif() sarifRule {
	text, markdown := ri.helpText()
	tags := []string{"kubernetes", "service-account-token"}
	switch ri.kind {
	case policy.KindAWSSDK:
		tags = append(tags, "aws-credentials")
	case "":
	default:
		tags = append(tags, ri.kind)
	}
	return sarifRule{
		ID:                   ri.id,
		ShortDescription:     sarifMessage{Text: ri.short},
		FullDescription:      sarifMessage{Text: ri.full},
		Help:                 sarifMessage{Text: text, Markdown: markdown},
		HelpURI:              ri.uri,
		DefaultConfiguration: sarifConfig{Level: ri.level},
		Properties:           sarifRuleFields{Tags: tags},
	}
}

// artifactURI is a manifest path as a URI reference: relative paths stay
// relative (GitHub resolves them against the repository's root), with
// forward slashes and percent-encoding; absolute ones become file URIs.
func artifactURI(path string) string {
	p := filepath.ToSlash(path)
	if filepath.IsAbs(path) {
		return (&url.URL{Scheme: "file", Path: p}).String()
	}
	return (&url.URL{Path: p}).String()
}

// workloadName is "Kind namespace/name" or "Kind name".
func workloadName(res *Result) string {
	if res.Namespace == "" {
		return res.Kind + " " + res.Name
	}
	return res.Kind + " " + res.Namespace + "/" + res.Name
}

// findingLine is the line a finding points at: its container's image, else
// the object; 0 when not known.
func findingLine(res *Result, f *policy.Finding) int {
	if n := res.ImageLines[f.Container]; f.Container != "" && n > 0 {
		return n
	}
	return res.Line
}

// location places a finding (or, with f nil, the result) in its manifest.
func location(res *Result, f *policy.Finding) sarifLocation {
	loc := sarifLocation{LogicalLocations: []sarifLogical{{
		Name: res.Name, FullyQualifiedName: workloadName(res), Kind: "resource",
	}}}
	if res.Source != "" && res.Source != "-" {
		loc.PhysicalLocation = &sarifPhysical{ArtifactLocation: sarifArtifact{URI: artifactURI(res.Source)}}
		line := res.Line
		if f != nil {
			line = findingLine(res, f)
		}
		if line > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: line}
		}
	}
	return loc
}

func sarifResultOf(res *Result, f *policy.Finding, level string, rules *ruleTable) sarifResult {
	id := RuleID(f)
	out := sarifResult{
		RuleID: id, RuleIndex: rules.index[id], Level: level,
		Message:   sarifMessage{Text: f.Message()},
		Locations: []sarifLocation{location(res, f)},
		Properties: sarifResultFields{
			Verdict: f.Verdict, Reason: f.Reason, Container: f.Container, Image: f.Image,
			Version: f.Version, Minimum: f.Minimum, Evidence: f.Source,
			Workload: workloadName(res), Document: res.Document,
		},
	}
	if f.Exempt != "" {
		out.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted", Justification: f.Exempt}}
	}
	return out
}

func errorNotification(e *Error) sarifNotification {
	n := sarifNotification{Level: "error", Message: sarifMessage{Text: e.Message}}
	if e.Source != "" && e.Source != "-" {
		n.Locations = []sarifLocation{{PhysicalLocation: &sarifPhysical{ArtifactLocation: sarifArtifact{URI: artifactURI(e.Source)}}}}
	}
	return n
}

// jsonOut writes indented JSON piece by piece, as one encoder would write
// the whole document, so that nothing but the piece at hand is held.
type jsonOut struct {
	bw      *bufio.Writer
	scratch bytes.Buffer
}

// value writes v at a nesting level whose lines start with prefix.
func (j *jsonOut) value(v any, prefix string) error {
	j.scratch.Reset()
	enc := json.NewEncoder(&j.scratch)
	enc.SetIndent(prefix, "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := j.bw.Write(bytes.TrimSuffix(j.scratch.Bytes(), []byte("\n")))
	return err
}

// array writes the elements that fill hands to emit as a JSON array at
// the nesting level of prefix.
func (j *jsonOut) array(prefix string, fill func(emit func(v any) error) error) error {
	j.bw.WriteByte('[')
	n := 0
	err := fill(func(v any) error {
		if n > 0 {
			j.bw.WriteByte(',')
		}
		n++
		j.bw.WriteString("\n" + prefix + "  ")
		return j.value(v, prefix+"  ")
	})
	if err != nil {
		return err
	}
	if n > 0 {
		j.bw.WriteString("\n" + prefix)
	}
	j.bw.WriteByte(']')
	return nil
}

func writeSARIF(w io.Writer, src source, o SARIFOptions) error {
	rules, err := rulesFor(o.Catalog, src)
	if err != nil {
		return err
	}
	driver := sarifDriver{Name: "tokenguard", Version: o.Version, InformationURI: InformationURI}
	for i := range rules.rules {
		driver.Rules = append(driver.Rules, rules.rules[i].sarif())
	}
	j := &jsonOut{bw: bufio.NewWriterSize(w, 64<<10)}
	const run = "    "
	j.bw.WriteString("{\n  \"$schema\": \"" + SARIFSchema + "\",\n  \"version\": \"" + SARIFVersion + "\",\n  \"runs\": [\n    {\n")
	j.bw.WriteString(run + "  \"tool\": ")
	if err := j.value(sarifTool{Driver: driver}, run+"  "); err != nil {
		return err
	}
	j.bw.WriteString(",\n" + run + "  \"invocations\": [\n" + run + "    {\n" + run + "      \"executionSuccessful\": ")
	if src.counts().Errors > 0 {
		j.bw.WriteString("false,\n" + run + "      \"toolExecutionNotifications\": ")
		err := j.array(run+"      ", func(emit func(any) error) error {
			return src.eachError(func(e *Error) error { return emit(errorNotification(e)) })
		})
		if err != nil {
			return err
		}
	} else {
		j.bw.WriteString("true")
	}
	j.bw.WriteString("\n" + run + "    }\n" + run + "  ],\n" + run + "  \"results\": ")
	err = j.array(run+"  ", func(emit func(any) error) error {
		return src.each(func(res *Result) error {
			for k := range res.Findings {
				f := &res.Findings[k]
				if level := sarifLevel(f); level != "" {
					if err := emit(sarifResultOf(res, f, level, rules)); err != nil {
						return err
					}
				}
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	j.bw.WriteString("\n" + run + "}\n  ]\n}\n")
	return j.bw.Flush()
}
