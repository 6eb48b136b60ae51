package filecat

// The catalogers' names. A cataloger's findings have the Source
// "layer:" + its name (go-buildinfo's Rust crates: "layer:" +
// NameCargoAuditable).
const (
	NameGoBuildinfo    = "go-buildinfo"
	NamePythonMetadata = "python-metadata"
	NameNPMPackage     = "npm-package"
	NameJavaArchive    = "java-archive"
	NameDotnetDeps     = "dotnet-deps"
	NameRubyGemspec    = "ruby-gemspec"
	NameHaskellConf    = "haskell-package-conf"
	NameComposer       = "composer-installed"

	// NameCargoAuditable is the Source name of the Rust crates go-buildinfo
	// reads, in the same pass, from the dependency list cargo auditable
	// embeds in ELF executables: not a Cataloger of its own, which would
	// make the layer reader copy every executable to offer it twice.
	NameCargoAuditable = "cargo-auditable"
)

// Default returns every cataloger of the package:
//
//   - go-buildinfo: the module information of Go executables (ELF, PE,
//     Mach-O), streamed, with the replacements applied; and in the same
//     pass the section .dep-v0 of ELF executables built with cargo
//     auditable (Rust crates, Source "layer:cargo-auditable");
//   - python-metadata: *.dist-info/METADATA, *.egg-info/PKG-INFO,
//     single-file *.egg-info and *.egg/EGG-INFO/PKG-INFO;
//   - npm-package: node_modules/[@scope/]name/package.json;
//   - java-archive: *.jar, *.war and *.ear, with the archives nested in
//     them (pom.properties, then MANIFEST.MF, then the file name);
//   - dotnet-deps: *.deps.json;
//   - ruby-gemspec: specifications/NAME-VERSION.gemspec;
//   - haskell-package-conf: package.conf.d/NAME-VERSION[-ID].conf;
//   - composer-installed: vendor/composer/installed.json (PHP).
//
// They keep no state between calls: each is safe for concurrent use.
func Default() []Cataloger {
	return []Cataloger{
		goBuildinfo{},
		pythonMetadata{},
		npmPackage{},
		javaArchive{},
		dotnetDeps{},
		rubyGemspec{},
		haskellConf{},
		composerInstalled{},
	}
}
