// Package report turns workload verdicts into the `check`/`audit` outputs:
// the JSON contract of DESIGN.md and a table an operator can read.
package report
