// Package policy decides, purely from a workload's pod specs and the evidence
// found for its images, whether each container can refresh its bound
// service-account token: no I/O, no clock, deterministic output.
package policy
