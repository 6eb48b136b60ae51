package corpus

import (
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// nugetLib is a NuGet package in a .NET app's deps.json.
type nugetLib struct {
	name, version, dll, assemblyVersion string
	deps                                map[string]string
}

// depsJSON is the <app>.deps.json `dotnet publish` writes for a .NET 6 app
// (the runtime target, each package's runtime assemblies, and the
// libraries table whose keys are NAME/VERSION).
func depsJSON(app string, libs []nugetLib) ([]byte, error) {
	const target = ".NETCoreApp,Version=v6.0"
	appDeps := map[string]string{}
	targets := map[string]any{}
	libraries := map[string]any{
		app + "/1.0.0": map[string]any{"type": "project", "serviceable": false, "sha512": ""},
	}
	for _, l := range libs {
		appDeps[l.name] = l.version
		entry := map[string]any{
			"runtime": map[string]any{l.dll: map[string]string{"assemblyVersion": l.assemblyVersion, "fileVersion": l.version}},
		}
		if len(l.deps) > 0 {
			entry["dependencies"] = l.deps
		}
		targets[l.name+"/"+l.version] = entry
		sum := sha512.Sum512([]byte(l.name + "/" + l.version))
		lower := strings.ToLower(l.name)
		libraries[l.name+"/"+l.version] = map[string]any{
			"type":        "package",
			"serviceable": true,
			"sha512":      "sha512-" + base64.StdEncoding.EncodeToString(sum[:]),
			"path":        lower + "/" + l.version,
			"hashPath":    lower + "." + l.version + ".nupkg.sha512",
		}
	}
	targets[app+"/1.0.0"] = map[string]any{
		"dependencies": appDeps,
		"runtime":      map[string]any{app + ".dll": map[string]any{}},
	}
	doc := map[string]any{
		"runtimeTarget":      map[string]string{"name": target, "signature": ""},
		"compilationOptions": map[string]any{},
		"targets":            map[string]any{target: targets},
		"libraries":          libraries,
	}
	return json.MarshalIndent(doc, "", "  ")
}

// gemspec is the specification RubyGems writes to specifications/ when it
// installs a gem (Gem::Specification#to_ruby_for_cache).
func gemspec(name, version, summary, homepage string, deps map[string]string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# -*- encoding: utf-8 -*-\n# stub: %s %s ruby lib\n\n", name, version)
	b.WriteString("Gem::Specification.new do |s|\n")
	fmt.Fprintf(&b, "  s.name = %q.freeze\n", name)
	fmt.Fprintf(&b, "  s.version = %q\n\n", version)
	if strings.Contains(version, ".pre") {
		b.WriteString("  s.required_rubygems_version = Gem::Requirement.new(\"> 1.3.1\".freeze) if s.respond_to? :required_rubygems_version=\n")
	} else {
		b.WriteString("  s.required_rubygems_version = Gem::Requirement.new(\">= 0\".freeze) if s.respond_to? :required_rubygems_version=\n")
	}
	b.WriteString("  s.require_paths = [\"lib\".freeze]\n")
	b.WriteString("  s.authors = [\"The Kubernetes Authors\".freeze]\n")
	b.WriteString("  s.date = \"2019-03-01\"\n")
	fmt.Fprintf(&b, "  s.homepage = %q.freeze\n", homepage)
	b.WriteString("  s.licenses = [\"Apache-2.0\".freeze]\n")
	b.WriteString("  s.required_ruby_version = Gem::Requirement.new(\">= 2.5.0\".freeze)\n")
	b.WriteString("  s.rubygems_version = \"3.3.26\".freeze\n")
	fmt.Fprintf(&b, "  s.summary = %q.freeze\n\n", summary)
	b.WriteString("  s.installed_by_version = \"3.3.26\" if s.respond_to? :installed_by_version\n\n")
	b.WriteString("  if s.respond_to? :specification_version then\n    s.specification_version = 4\n  end\n\n")
	b.WriteString("  if s.respond_to? :add_runtime_dependency then\n")
	for _, k := range sortedKeys(deps) {
		fmt.Fprintf(&b, "    s.add_runtime_dependency(%q.freeze, [%q])\n", k, deps[k])
	}
	b.WriteString("  else\n")
	for _, k := range sortedKeys(deps) {
		fmt.Fprintf(&b, "    s.add_dependency(%q.freeze, [%q])\n", k, deps[k])
	}
	b.WriteString("  end\nend\n")
	return []byte(b.String())
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

// packageJSON is an npm package.json with the given dependency ranges.
func packageJSON(name, version string, deps map[string]string) []byte {
	doc := map[string]any{"name": name, "version": version, "private": true, "main": "index.js"}
	if len(deps) > 0 {
		doc["dependencies"] = deps
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return append(b, '\n')
}

// dpkgStatus is a /var/lib/dpkg/status stanza for installed packages,
// from their control fields (dpkg-deb --field), as dpkg writes it: the
// Status line after Package.
func dpkgStatus(controls ...[]byte) []byte {
	var b strings.Builder
	for i, c := range controls {
		if i > 0 {
			b.WriteString("\n")
		}
		for _, line := range strings.SplitAfter(strings.TrimRight(string(c), "\n")+"\n", "\n") {
			b.WriteString(line)
			if strings.HasPrefix(line, "Package: ") {
				b.WriteString("Status: install ok installed\n")
			}
		}
	}
	return []byte(b.String())
}
