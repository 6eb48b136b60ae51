package filecat

import (
	"strings"
	"testing"
)

// fuzzLimits are small, so that fuzzing reaches the caps.
var fuzzLimits = Limits{MaxFileBytes: 64 << 10}

// checkRead is the property every fuzz target checks: Read never fails on
// a reader that does not, gives the same result however the file is split
// into reads (readAll), and reports only wanted packages, complete, with
// the cataloger's source (or, for go-buildinfo's Rust crates,
// cargo-auditable's), in the file read or an archive nested in it.
func checkRead(t *testing.T, c Cataloger, path string, data []byte) {
	res := readAll(t, c, path, data, fuzzLimits)
	for _, f := range res.Found {
		p := f.Package
		source := c.Name()
		if c.Name() == NameGoBuildinfo && p.Type == "cargo" {
			source = NameCargoAuditable
		}
		if p.Type == "" || p.Name == "" || p.Version == "" || p.Source != "layer:"+source {
			t.Errorf("incomplete finding %+v", f)
		}
		if f.File != path && !strings.HasPrefix(f.File, path+"!/") {
			t.Errorf("finding in %q, not in %q", f.File, path)
		}
		wanted := isWanted(p.Type, p.Namespace, p.Name)
		if p.Type == "golang" {
			wanted = isWantedGoModule(p.Namespace + "/" + p.Name)
		}
		if !wanted {
			t.Errorf("finding of a package not wanted: %+v", f)
		}
	}
	for _, n := range res.Notes {
		if n.Reason == "" || (n.File != path && !strings.HasPrefix(n.File, path+"!/")) {
			t.Errorf("note %+v", n)
		}
	}
}

func FuzzGoBuildinfo(f *testing.F) {
	for _, text := range []string{modClientGo, modLegacy, modReplaced, modLocal, modFork, modOwnDevel, modAWS, modGOPATH, ""} {
		f.Add(goInline(16, 600, text, true))
		f.Add(goPointer(16, 400, 800, text))
	}
	f.Add(goInline(16, 600, modClientGo, false))
	f.Add([]byte(elfHead + goInfoStart + "path\tx\n" + goInfoEnd))
	f.Add([]byte(elfHead + goBuildInfoMagic + "\x08\x02"))
	f.Fuzz(func(t *testing.T, data []byte) { checkRead(t, goBuildinfo{}, "/usr/local/bin/app", data) })
}

func FuzzJavaArchive(f *testing.F) {
	manifest := readTestdata(f, "java/client-java-12.0.1.MANIFEST.MF")
	pom := readTestdata(f, "java/client-java-12.0.1.pom.properties")
	lib := jarOf(f, manifest, []byte(clientJavaPom), pom, false)
	libDD := jarOf(f, nil, []byte(clientJavaPom), pom, true)
	f.Add(lib)
	f.Add(libDD)
	f.Add(readTestdata(f, "java/debian-jul-to-slf4j-1.7.32.jar"))
	f.Add(buildZip(f, member{name: "BOOT-INF/lib/client-java-1.0.jar", data: lib}, member{name: "WEB-INF/lib/x.jar", data: libDD, deflate: true, descriptor: true}))
	f.Add(buildZip(f, member{name: "a.jar", data: lib, descriptor: true}))
	f.Add(append([]byte("#!/bin/sh\nexit 0\n"), lib...))
	f.Add([]byte(zipLocalSig))
	f.Fuzz(func(t *testing.T, data []byte) { checkRead(t, javaArchive{}, "/app/client-java-1.0.jar", data) })
}

func FuzzPython(f *testing.F) {
	f.Add(readTestdata(f, "python/debian-python3-kubernetes-22.6.0.PKG-INFO"))
	f.Add(readTestdata(f, "python/botocore-1.43.11.METADATA"))
	f.Add([]byte("Name: kubernetes\r\nVersion: 1\r\n"))
	f.Add([]byte("Name:\n Version: 2\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRead(t, pythonMetadata{}, "/site-packages/kubernetes-1.0.dist-info/METADATA", data)
	})
}

func FuzzNode(f *testing.F) {
	f.Add(readTestdata(f, "npm/kubernetes-client-node-0.10.3.package.json"))
	f.Add([]byte(`{"name":"@kubernetes/client-node","version":"1"}`))
	f.Add([]byte(`{"version":{"a":[1,{"b":null}]},"name":"@kubernetes/client-node"}`))
	f.Add([]byte("\xef\xbb\xbf[]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRead(t, npmPackage{}, "/app/node_modules/@kubernetes/client-node/package.json", data)
	})
}

func FuzzDepsJSON(f *testing.F) {
	f.Add(readTestdata(f, "dotnet/KubeOperator.deps.json"))
	f.Add([]byte(`{"libraries":{"KubernetesClient/1":{"type":"package"}}}`))
	f.Add([]byte(`{"libraries":[],"libraries":{"a/b":7}}`))
	f.Fuzz(func(t *testing.T, data []byte) { checkRead(t, dotnetDeps{}, "/app/app.deps.json", data) })
}

func FuzzGemspecAndConf(f *testing.F) {
	f.Add(readTestdata(f, "ruby/kubernetes-io-1.0.0.pre.alpha2.gemspec"))
	f.Add(readTestdata(f, "haskell/kubernetes-client-0.3.0.0-8fL0e3uDxGq1bWvP1WJdHs.conf"))
	f.Add([]byte("name:\nversion:\n  1\n s.name = %q{\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRead(t, rubyGemspec{}, "/gems/specifications/kubernetes-io-1.0.gemspec", data)
		checkRead(t, haskellConf{}, "/ghc/package.conf.d/kubernetes-client-0.3.0.0.conf", data)
	})
}

func FuzzCargoAuditable(f *testing.F) {
	// Small executables: the fuzzer minimises what it finds, slowly in
	// large inputs.
	dep := func(deps string) elfSec { return elfSec{name: depSectionName, typ: 1, data: zlibOf(f, deps)} }
	for _, deps := range []string{depsAWS, depsOld, depsGit, depsFormat, depsNoList} {
		f.Add(elfSpec{sections: []elfSec{dep(deps)}}.bytes())
	}
	f.Add(elfSpec{class32: true, bigEndian: true, sections: []elfSec{dep(depsAWS)}}.bytes())
	f.Add(elfSpec{tableFirst: true, sections: []elfSec{dep(depsAWS)}}.bytes())
	f.Add(elfSpec{sections: []elfSec{{name: ".rodata", typ: 1, data: zlibOf(f, depsOld)}, dep(depsAWS)}}.bytes())
	f.Fuzz(func(t *testing.T, data []byte) { checkRead(t, goBuildinfo{}, "/usr/local/bin/app", data) })
}

func FuzzComposer(f *testing.F) {
	f.Add(readTestdata(f, "composer/uploader-installed.json"))
	f.Add([]byte(composer1Installed))
	f.Add([]byte(`{"packages":[{"name":"aws/aws-sdk-php","version":"v3.287.1"},{"name":"aws/aws-sdk-php","version":"dev-master"}]}`))
	f.Add([]byte(`{"dev":[{"a":null}],"packages":[7,{"name":{}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRead(t, composerInstalled{}, "/app/vendor/composer/installed.json", data)
	})
}
