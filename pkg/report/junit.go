package report

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// JUnitOptions is what the JUnit rendering needs beside the results.
type JUnitOptions struct {
	// FailOn is check's --fail-on: a finding at or above it (and not
	// exempt) is a <failure>, so that the failed tests are what made the
	// exit code 1. "" is too-old.
	FailOn policy.Verdict
}

// WriteJUnit writes the report as JUnit XML in the dialect Jenkins and
// GitLab read: <testsuites> holds one <testsuite> per workload (named
// "Kind namespace/name", in the report's order), which holds one
// <testcase> per finding, i.e. per container and rule, with the manifest's
// file and the line of the container's image.
//
//   - at or above FailOn: <failure type="too-old|unknown"> with the
//     finding's message, and its fields in the body;
//   - unknown below FailOn, not-applicable, or exempt: <skipped> whose
//     message starts with why ("unknown: ", "not-applicable: ",
//     "exempt (reason): "): the rule was not decided, so the test neither
//     passes nor fails, and CI shows it as skipped rather than hiding it;
//   - ok: a passing test, the message in <system-out>.
//
// Input errors (a document that cannot be read) are one last suite,
// "input errors", one <testcase> with an <error> each. Writing streams:
// one workload's suite is held at a time.
func WriteJUnit(w io.Writer, r *Report, o JUnitOptions) error { return writeJUnit(w, r, o) }

// WriteJUnit writes what the spool holds as WriteJUnit writes a Report.
func (s *Spool) WriteJUnit(w io.Writer, o JUnitOptions) error { return writeJUnit(w, s, o) }

type junitSuite struct {
	XMLName  xml.Name    `xml:"testsuite"`
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	File     string      `xml:"file,attr,omitempty"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	XMLName   xml.Name      `xml:"testcase"`
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// junitCounts are the counts of a suite, or of all of them.
type junitCounts struct{ tests, failures, errors, skipped int }

func (c *junitCounts) attrs() []xml.Attr {
	return []xml.Attr{
		{Name: xml.Name{Local: "tests"}, Value: strconv.Itoa(c.tests)},
		{Name: xml.Name{Local: "failures"}, Value: strconv.Itoa(c.failures)},
		{Name: xml.Name{Local: "errors"}, Value: strconv.Itoa(c.errors)},
		{Name: xml.Name{Local: "skipped"}, Value: strconv.Itoa(c.skipped)},
	}
}

// junitOutcome is what a finding's test case is.
type junitOutcome uint8

const (
	outcomePassed junitOutcome = iota
	outcomeFailed
	outcomeSkipped
)

// outcome: failed at or above failOn (and not exempt), skipped when
// undecided (unknown below failOn, exempt, not-applicable), else passed.
func outcome(f *policy.Finding, failOn policy.Verdict) junitOutcome {
	w := f.Weight()
	switch {
	case w.Rank() < policy.VerdictUnknown.Rank():
		if f.Verdict == policy.VerdictNotApplicable {
			return outcomeSkipped
		}
		return outcomePassed
	case f.Exempt != "":
		return outcomeSkipped
	case w.Rank() >= failOn.Rank():
		return outcomeFailed
	}
	return outcomeSkipped
}

// junitCaseOf is a finding's test case.
func junitCaseOf(res *Result, f *policy.Finding, failOn policy.Verdict) junitCase {
	subject := f.Container
	if subject == "" {
		subject = "pod"
	}
	name := subject + ": " + RuleID(f)
	if f.Volume != "" {
		name += " (volume " + f.Volume + ")"
	}
	c := junitCase{Name: name, Classname: workloadName(res)}
	if res.Source != "" && res.Source != "-" {
		c.File = res.Source
		c.Line = findingLine(res, f)
	}
	msg := f.Message()
	switch outcome(f, failOn) {
	case outcomeFailed:
		c.Failure = &junitProblem{Message: msg, Type: string(f.Weight()), Body: junitDetails(res, f)}
	case outcomeSkipped:
		why := string(f.Weight())
		if f.Exempt != "" && f.Weight().Rank() >= policy.VerdictUnknown.Rank() {
			why = "exempt (" + f.Exempt + ")"
		}
		c.Skipped = &junitSkipped{Message: why + ": " + msg}
	default:
		c.SystemOut = msg
	}
	return c
}

// junitDetails is the body of a failure: the finding's fields, one a line.
func junitDetails(res *Result, f *policy.Finding) string {
	var b strings.Builder
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	line("workload", workloadName(res))
	line("container", f.Container)
	line("image", f.Image)
	line("rule", RuleID(f))
	line("version", f.Version)
	line("minimum", f.Minimum)
	line("evidence", f.Source)
	line("reason", string(f.Reason))
	line("detail", f.Detail)
	line("advisory", f.Advisory)
	line("fix", f.Fix)
	if m := manifest(res); m != "-" {
		if n := findingLine(res, f); n > 0 {
			m += fmt.Sprintf(" (line %d)", n)
		}
		line("manifest", m)
	}
	return b.String()
}

// count adds c to the counts.
func (n *junitCounts) count(c *junitCase) {
	n.tests++
	switch {
	case c.Failure != nil:
		n.failures++
	case c.Error != nil:
		n.errors++
	case c.Skipped != nil:
		n.skipped++
	}
}

func writeJUnit(w io.Writer, src source, o JUnitOptions) error {
	failOn := o.FailOn
	if failOn == "" {
		failOn = policy.VerdictTooOld
	}
	// A first pass counts, for the <testsuites> element's attributes.
	var total junitCounts
	err := src.each(func(res *Result) error {
		for k := range res.Findings {
			total.tests++
			switch outcome(&res.Findings[k], failOn) {
			case outcomeFailed:
				total.failures++
			case outcomeSkipped:
				total.skipped++
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	nErrors := src.counts().Errors
	total.tests += nErrors
	total.errors += nErrors

	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(xml.Header)
	enc := xml.NewEncoder(bw)
	enc.Indent("", "  ")
	root := xml.StartElement{Name: xml.Name{Local: "testsuites"},
		Attr: append([]xml.Attr{{Name: xml.Name{Local: "name"}, Value: "tokenguard"}}, total.attrs()...)}
	if err := enc.EncodeToken(root); err != nil {
		return err
	}
	err = src.each(func(res *Result) error {
		suite := junitSuite{Name: workloadName(res)}
		if res.Source != "" && res.Source != "-" {
			suite.File = res.Source
		}
		var n junitCounts
		for k := range res.Findings {
			c := junitCaseOf(res, &res.Findings[k], failOn)
			n.count(&c)
			suite.Cases = append(suite.Cases, c)
		}
		suite.Tests, suite.Failures, suite.Errors, suite.Skipped = n.tests, n.failures, n.errors, n.skipped
		return enc.EncodeElement(suite, xml.StartElement{Name: xml.Name{Local: "testsuite"}})
	})
	if err != nil {
		return err
	}
	if nErrors > 0 {
		n := junitCounts{tests: nErrors, errors: nErrors}
		start := xml.StartElement{Name: xml.Name{Local: "testsuite"},
			Attr: append([]xml.Attr{{Name: xml.Name{Local: "name"}, Value: "input errors"}}, n.attrs()...)}
		if err := enc.EncodeToken(start); err != nil {
			return err
		}
		err := src.eachError(func(e *Error) error {
			name := e.Source
			if e.Document > 0 {
				name += ": document " + strconv.Itoa(e.Document)
			}
			c := junitCase{Name: name, Classname: "input", File: e.Source,
				Error: &junitProblem{Message: e.Message, Type: "input", Body: e.Message}}
			if e.Source == "-" {
				c.File = ""
			}
			return enc.EncodeElement(c, xml.StartElement{Name: xml.Name{Local: "testcase"}})
		})
		if err != nil {
			return err
		}
		if err := enc.EncodeToken(start.End()); err != nil {
			return err
		}
	}
	if err := enc.EncodeToken(root.End()); err != nil {
		return err
	}
	if err := enc.Flush(); err != nil {
		return err
	}
	bw.WriteByte('\n')
	return bw.Flush()
}
