// Package config is tokenguard's versioned configuration API
// (tokenguard.io/v1alpha1 TokenGuardConfiguration): its types, defaults,
// validation with field paths, strict loading, catalog overrides and the
// compiled exemptions used on the admission path.
package config
