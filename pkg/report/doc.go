// Package report turns workload verdicts into the `check`/`audit` outputs:
// the JSON contract of DESIGN.md, a table an operator can read, and for CI
// SARIF 2.1.0 (code scanning) and JUnit XML (test reports).
package report
