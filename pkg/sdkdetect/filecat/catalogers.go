package filecat

// The catalogers' names. A cataloger's findings have the Source
// "layer:" + its name.
const (
	NameGoBuildinfo    = "go-buildinfo"
	NamePythonMetadata = "python-metadata"
	NameNPMPackage     = "npm-package"
	NameJavaArchive    = "java-archive"
	NameDotnetDeps     = "dotnet-deps"
	NameRubyGemspec    = "ruby-gemspec"
	NameHaskellConf    = "haskell-package-conf"
)

// Default returns every cataloger of the package:
//
//   - go-buildinfo: the module information of Go executables (ELF, PE,
//     Mach-O), streamed, with the replacements applied;
//   - python-metadata: *.dist-info/METADATA, *.egg-info/PKG-INFO,
//     single-file *.egg-info and *.egg/EGG-INFO/PKG-INFO;
//   - npm-package: node_modules/[@scope/]name/package.json;
//   - java-archive: *.jar, *.war and *.ear, with the archives nested in
//     them (pom.properties, then MANIFEST.MF, then the file name);
//   - dotnet-deps: *.deps.json;
//   - ruby-gemspec: specifications/NAME-VERSION.gemspec;
//   - haskell-package-conf: package.conf.d/NAME-VERSION[-ID].conf.
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
	}
}
