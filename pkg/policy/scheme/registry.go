package scheme

import "slices"

// registry holds every scheme by catalog name.
var registry = map[string]Scheme{
	"semver":    semverScheme{},
	"npm":       npmScheme{},
	"gomod":     gomodScheme{},
	"client-go": clientGoScheme{},
	"pep440":    pep440Scheme{},
	"maven":     mavenScheme{},
	"nuget":     nugetScheme{},
	"pvp":       pvpScheme{},
	"rubygems":  rubygemsScheme{},
	"fluentd":   fluentdScheme{},
	"fluentbit": fluentbitScheme{},
}

// Lookup returns the scheme with catalog name name ("semver",
// "client-go", ...).
func Lookup(name string) (Scheme, bool) {
	s, ok := registry[name]
	return s, ok
}

// Names returns the catalog names of all schemes, sorted. The slice is
// the caller's to keep or append to.
func Names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
