// Package scheme parses and compares version strings of one ecosystem each
// (semver with EKS build suffixes, Go modules and client-go's legacy majors,
// PEP 440, Maven, npm, NuGet, Haskell PVP, RubyGems, Fluentd and Fluent Bit
// image tags), answering ok, too-old or unknown against a minimum.
package scheme
