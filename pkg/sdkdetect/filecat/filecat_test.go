package filecat

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// TestWantedCoversCatalog holds wantedPackages to the catalog: every purl
// of an SDK rule has a row, and every row not marked aws matches a rule.
func TestWantedCoversCatalog(t *testing.T) {
	cat, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range cat.Rules() {
		for _, m := range r.Match.PURLs {
			name, prefix := strings.CutSuffix(m.Name, "*")
			covered := false
			for _, w := range wantedPackages {
				if w.typ == m.Type && w.namespace == m.Namespace && w.name == name && w.prefix == prefix {
					covered = true
				}
			}
			if !covered {
				t.Errorf("rule %s matches %+v, which wantedPackages lacks: the layer scan cannot find it", r.ID, m)
			}
		}
	}
	for _, w := range wantedPackages {
		name := w.name
		if w.prefix {
			name += "api"
		}
		rule := cat.MatchPackage(&policy.Package{Type: w.typ, Namespace: w.namespace, Name: name})
		if w.aws {
			if rule != nil {
				t.Errorf("%+v is marked aws but the catalog matches it (rule %s): drop the mark", w, rule.ID)
			}
			continue
		}
		if rule == nil {
			t.Errorf("%+v matches no catalog rule", w)
		}
	}
}

// TestFoundMatchCatalog reads a Kubernetes SDK of each ecosystem (and the
// AWS SDKs of the ecosystems only AWS rules name) and checks that the
// catalog matches the identity reported.
func TestFoundMatchCatalog(t *testing.T) {
	cat, err := policy.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	manifest := readTestdata(t, "java/client-java-12.0.1.MANIFEST.MF")
	inputs := []struct {
		c       Cataloger
		path    string
		content []byte
	}{
		{goBuildinfo{}, "/app", goInline(64, 4096, modClientGo, true)},
		{pythonMetadata{}, "/usr/lib/python3/dist-packages/kubernetes-22.6.0.egg-info/PKG-INFO", readTestdata(t, "python/debian-python3-kubernetes-22.6.0.PKG-INFO")},
		{npmPackage{}, "/app/node_modules/@kubernetes/client-node/package.json", readTestdata(t, "npm/kubernetes-client-node-0.10.3.package.json")},
		{javaArchive{}, "/app/lib/client-java-12.0.1.jar", jarOf(t, manifest, []byte(clientJavaPom), readTestdata(t, "java/client-java-12.0.1.pom.properties"), false)},
		{javaArchive{}, "/app/lib/client-java-api-12.0.1.jar", jarOf(t, nil, nil, nil, false)},
		{dotnetDeps{}, "/app/KubeOperator.deps.json", readTestdata(t, "dotnet/KubeOperator.deps.json")},
		{rubyGemspec{}, "/gems/specifications/kubernetes-io-1.0.0.pre.alpha2.gemspec", readTestdata(t, "ruby/kubernetes-io-1.0.0.pre.alpha2.gemspec")},
		{rubyGemspec{}, "/gems/specifications/fluent-plugin-kubernetes_metadata_filter-2.11.1.gemspec", readTestdata(t, "ruby/fluent-plugin-kubernetes_metadata_filter-2.11.1.gemspec")},
		{haskellConf{}, "/store/package.db/kubernetes-client-0.3.0.0-8fL0e3uDxGq1bWvP1WJdHs.conf", readTestdata(t, "haskell/kubernetes-client-0.3.0.0-8fL0e3uDxGq1bWvP1WJdHs.conf")},
		{composerInstalled{}, "/app/vendor/composer/installed.json", readTestdata(t, "composer/uploader-installed.json")},
		{goBuildinfo{}, "/usr/local/bin/uploader", readTestdata(t, "rust/uploader-aws-config-1.1.8")},
	}
	rules := map[string]bool{}
	for _, in := range inputs {
		res := readAll(t, in.c, in.path, in.content, testLimits)
		n := 0
		for _, f := range res.Found {
			if r := cat.MatchPackage(&f.Package); r != nil {
				rules[r.ID] = true
				n++
			}
		}
		if n == 0 {
			t.Errorf("%s: %s: no package the catalog matches in %+v", in.c.Name(), in.path, res)
		}
	}
	for _, r := range cat.Rules() {
		if r.Kind == policy.KindSDK && !rules[r.ID] {
			t.Errorf("no test input finds a package of rule %s", r.ID)
		}
	}
}

func TestDefault(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Default() {
		if seen[c.Name()] || c.Name() == "" {
			t.Errorf("cataloger name %q empty or repeated", c.Name())
		}
		seen[c.Name()] = true
	}
	if len(seen) != 8 {
		t.Errorf("Default has %d catalogers, want 8", len(seen))
	}
}

// typicalFiles are files of real images: what every Wants sees.
func typicalFiles() []File {
	elf := []byte(elfHead)
	zip := []byte("PK\x03\x04\x14\x00\x08\x08")
	text := []byte("# comment")
	var fs []File
	add := func(path string, size int64, head []byte) {
		fs = append(fs, File{Path: path, Size: size, Mode: 0o644, Head: head})
	}
	for i := range 40 {
		add(fmt.Sprintf("/usr/lib/x86_64-linux-gnu/libfoo%d.so.1", i), 300000, elf)
		add(fmt.Sprintf("/usr/bin/tool%d", i), 5<<20, elf)
		add(fmt.Sprintf("/app/node_modules/pkg%d/package.json", i), 2000, []byte("{\n  \"nam"))
		add(fmt.Sprintf("/app/node_modules/@scope/pkg%d/lib/index.js", i), 2000, text)
		add(fmt.Sprintf("/usr/lib/python3/dist-packages/pkg%d-1.0.dist-info/METADATA", i), 3000, []byte("Metadata"))
		add(fmt.Sprintf("/usr/lib/python3/dist-packages/pkg%d/__init__.py", i), 3000, text)
		add(fmt.Sprintf("/app/lib/lib%d-1.0.jar", i), 300000, zip)
		add(fmt.Sprintf("/usr/share/doc/pkg%d/changelog.Debian.gz", i), 3000, []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00"))
	}
	for _, p := range []string{
		"/app/node_modules/@kubernetes/client-node/package.json",
		"/app/node_modules/aws-sdk/package.json",
		"/app/package.json",
		"/usr/lib/python3/dist-packages/kubernetes-22.6.0.egg-info/PKG-INFO",
		"/usr/local/lib/python3.11/site-packages/botocore-1.43.11.dist-info/METADATA",
		"/usr/lib/python3/dist-packages/kubernetes-12.0.1.egg-info",
		"/app/KubeOperator.deps.json",
		"/usr/local/bundle/specifications/kubernetes-io-1.0.0.pre.alpha2.gemspec",
		"/usr/local/bundle/specifications/rails-7.0.0.gemspec",
		"/var/lib/ghc/package.conf.d/kubernetes-client-0.3.0.0.conf",
		"/var/lib/ghc/package.conf.d/base-4.15.1.0.conf",
		"/var/www/html/vendor/composer/installed.json",
		"/var/www/html/composer.lock",
		"/var/www/html/vendor/aws/aws-sdk-php/composer.json",
		"/etc/passwd", "/", "", "x", "/.wh..wh..opq",
	} {
		add(p, 1000, text)
	}
	add("/app/app.jar", 50<<20, zip)
	add("/app/app.exe", 5<<20, []byte("MZ\x90\x00"))
	return fs
}

// TestWantsAllocates nothing: Wants runs for every file of every layer.
func TestWantsAllocatesNothing(t *testing.T) {
	files := typicalFiles()
	if len(files) < 300 {
		t.Fatalf("only %d typical files", len(files))
	}
	cs := Default()
	n := 0
	allocs := testing.AllocsPerRun(20, func() {
		n = 0
		for i := range files {
			for _, c := range cs {
				if c.Wants(files[i]) {
					n++
				}
			}
		}
	})
	if allocs != 0 {
		t.Errorf("Wants allocates %.1f times per %d files", allocs, len(files))
	}
	if n == 0 {
		t.Error("no cataloger wants any typical file")
	}
}

func BenchmarkWants(b *testing.B) {
	files := typicalFiles()
	cs := Default()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i := range files {
			for _, c := range cs {
				c.Wants(files[i])
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(files)), "ns/file")
}

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// allocatedBy returns the bytes fn allocates.
func allocatedBy(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestReadMemoryIsBounded streams large files through the two catalogers
// of large files (go-buildinfo, for Go and Rust executables, and
// java-archive) and checks what they allocate does not grow with the file.
func TestReadMemoryIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("streams hundreds of MiB: not in -short")
	}
	const big = 256 << 20
	t.Run("go-buildinfo", func(t *testing.T) {
		tail := goInline(0, 0, modClientGo, true)
		size := int64(len(elfHead) + big + len(tail))
		r := io.MultiReader(strings.NewReader(elfHead), io.LimitReader(zeros{}, big), bytes.NewReader(tail))
		var res Result
		var err error
		n := allocatedBy(func() {
			res, err = goBuildinfo{}.Read(File{Path: "/app", Size: size, Head: []byte(elfHead)}, r, Limits{})
		})
		if err != nil || len(res.Found) != 1 {
			t.Fatalf("Read = %+v, %v", res, err)
		}
		if n > 1<<20 {
			t.Errorf("reading a %d MiB executable allocated %d bytes", size>>20, n)
		}
		t.Logf("%d MiB executable: %d bytes allocated", size>>20, n)
	})
	t.Run("cargo-auditable", func(t *testing.T) {
		spec := elfSpec{gap: big, zeroGap: true, sections: []elfSec{{name: depSectionName, typ: 1, data: zlibOf(t, depsAWS)}}}
		head, gap, tail := spec.build()
		size := int64(len(head) + gap + len(tail))
		r := io.MultiReader(bytes.NewReader(head), io.LimitReader(zeros{}, int64(gap)), bytes.NewReader(tail))
		var res Result
		var err error
		n := allocatedBy(func() {
			res, err = goBuildinfo{}.Read(File{Path: "/app", Size: size, Head: head[:HeadSize]}, r, Limits{})
		})
		if err != nil || len(res.Found) != 1 {
			t.Fatalf("Read = %+v, %v", res, err)
		}
		if n > 1<<20 {
			t.Errorf("reading a %d MiB executable allocated %d bytes", size>>20, n)
		}
		t.Logf("%d MiB executable: %d bytes allocated", size>>20, n)
	})
	t.Run("java-archive", func(t *testing.T) {
		manifest := readTestdata(t, "java/client-java-12.0.1.MANIFEST.MF")
		pom := readTestdata(t, "java/client-java-12.0.1.pom.properties")
		lib := jarOf(t, manifest, []byte(clientJavaPom), pom, false)
		// A fat jar whose nested jar holds a large stored entry, then the
		// client-java jar.
		innerLen := int64(zipHeaderLen+len("big.bin")) + big + 4
		var parts []io.Reader
		parts = append(parts,
			bytes.NewReader(storedHeader("BOOT-INF/lib/big.jar", innerLen)),
			bytes.NewReader(storedHeader("big.bin", big)), io.LimitReader(zeros{}, big), strings.NewReader(zipCentralSig),
			bytes.NewReader(storedHeader("BOOT-INF/lib/client-java-12.0.1.jar", int64(len(lib)))), bytes.NewReader(lib),
			strings.NewReader(zipCentralSig),
		)
		size := int64(zipHeaderLen+len("BOOT-INF/lib/big.jar")) + innerLen + int64(zipHeaderLen+len("BOOT-INF/lib/client-java-12.0.1.jar")+len(lib)+4)
		var res Result
		var err error
		n := allocatedBy(func() {
			res, err = javaArchive{}.Read(File{Path: "/app/app.jar", Size: size, Head: []byte(zipLocalSig)}, io.MultiReader(parts...), Limits{})
		})
		want := []Found{found("/app/app.jar!/BOOT-INF/lib/client-java-12.0.1.jar", NameJavaArchive, "maven", "io.kubernetes", "client-java", "12.0.1")}
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, res, want, 0)
		if n > 1<<20 {
			t.Errorf("reading a %d MiB archive allocated %d bytes", size>>20, n)
		}
		t.Logf("%d MiB archive: %d bytes allocated", size>>20, n)
	})
}

// storedHeader is the local header of a stored entry of size bytes.
func storedHeader(name string, size int64) []byte {
	h := make([]byte, zipHeaderLen, zipHeaderLen+len(name))
	copy(h, zipLocalSig)
	binary.LittleEndian.PutUint16(h[4:], 10)
	binary.LittleEndian.PutUint32(h[18:], uint32(size))
	binary.LittleEndian.PutUint32(h[22:], uint32(size))
	binary.LittleEndian.PutUint16(h[26:], uint16(len(name)))
	return append(h, name...)
}

// TestReadErrors: a failure of the reader is Read's error, whatever the
// cataloger was reading.
func TestReadErrors(t *testing.T) {
	manifest := readTestdata(t, "java/client-java-12.0.1.MANIFEST.MF")
	pom := readTestdata(t, "java/client-java-12.0.1.pom.properties")
	inputs := []struct {
		c       Cataloger
		path    string
		content []byte
	}{
		{goBuildinfo{}, "/app", goInline(goChunk, 3*goChunk, modClientGo, true)},
		{pythonMetadata{}, "/sp/kubernetes-1.0.dist-info/METADATA", readTestdata(t, "python/debian-python3-kubernetes-22.6.0.PKG-INFO")},
		{npmPackage{}, "/app/node_modules/@kubernetes/client-node/package.json", readTestdata(t, "npm/kubernetes-client-node-0.10.3.package.json")},
		{javaArchive{}, "/app/app.jar", buildZip(t, member{name: "BOOT-INF/lib/client-java-1.0.jar", data: jarOf(t, manifest, []byte(clientJavaPom), pom, true)})},
		{dotnetDeps{}, "/app/app.deps.json", readTestdata(t, "dotnet/KubeOperator.deps.json")},
		{rubyGemspec{}, "/gems/specifications/kubernetes-io-1.0.0.pre.alpha2.gemspec", readTestdata(t, "ruby/kubernetes-io-1.0.0.pre.alpha2.gemspec")},
		{haskellConf{}, "/ghc/package.conf.d/kubernetes-client-0.3.0.0.conf", []byte("id: x\nname: kubernetes-client\nversion: 0.3.0.0\n")},
		{composerInstalled{}, "/app/vendor/composer/installed.json", readTestdata(t, "composer/uploader-installed.json")},
		{goBuildinfo{}, "/usr/local/bin/uploader", readTestdata(t, "rust/uploader-aws-config-1.1.8")},
	}
	boom := errors.New("boom")
	for _, in := range inputs {
		f := fileOf(in.path, in.content)
		whole, err := in.c.Read(f, bytes.NewReader(in.content), testLimits)
		if err != nil || len(whole.Found) == 0 {
			t.Fatalf("%s: Read = %+v, %v", in.c.Name(), whole, err)
		}
		for _, at := range []int{0, 1, 7, len(in.content) / 3, len(in.content) - 1} {
			r := &failingReader{r: bytes.NewReader(in.content[:at]), err: boom}
			res, err := in.c.Read(f, r, testLimits)
			switch {
			case errors.Is(err, boom):
			case err == nil && at > 0 && reflect.DeepEqual(res, whole):
				// It had read what it needed before the failure.
			default:
				t.Errorf("%s: reader failing after %d of %d bytes: Read = %+v, %v; want the reader's error", in.c.Name(), at, len(in.content), res, err)
			}
		}
	}
}

// BenchmarkGoBuildinfoRead streams a 64 MiB executable whose build
// information is at its end.
func BenchmarkGoBuildinfoRead(b *testing.B) {
	content := goInline(64<<20, 0, modClientGo, true)
	copy(content, elfHead)
	f := fileOf("/app", content)
	b.SetBytes(int64(len(content)))
	b.ReportAllocs()
	for b.Loop() {
		if res, err := (goBuildinfo{}).Read(f, bytes.NewReader(content), Limits{}); err != nil || len(res.Found) != 1 {
			b.Fatal(res, err)
		}
	}
}

// BenchmarkJavaArchiveRead reads a Spring Boot fat jar of 200 nested jars
// written by JarOutputStream (deflated entries with data descriptors,
// which must be inflated to be skipped).
func BenchmarkJavaArchiveRead(b *testing.B) {
	manifest := readTestdata(b, "java/client-java-12.0.1.MANIFEST.MF")
	pom := readTestdata(b, "java/client-java-12.0.1.pom.properties")
	var ms []member
	for i := range 200 {
		lib := jarOf(b, manifest, []byte(fmt.Sprintf("META-INF/maven/com.example/lib%d/pom.properties", i)), pom, true)
		ms = append(ms, member{name: fmt.Sprintf("BOOT-INF/lib/lib%d-1.0.jar", i), data: lib})
	}
	content := buildZip(b, ms...)
	f := fileOf("/app/app.jar", content)
	b.SetBytes(int64(len(content)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (javaArchive{}).Read(f, bytes.NewReader(content), Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestWantsDisjoint: no file is wanted by two catalogers, so the layer
// reader never copies one to hand it to both.
func TestWantsDisjoint(t *testing.T) {
	files := append(typicalFiles(),
		File{Path: "/app/app.jar", Size: 1 << 20, Head: []byte("#!/bin/b")},
		File{Path: "/app/node_modules/aws-sdk/package.json", Size: 1 << 20, Head: []byte(elfHead)},
		File{Path: "/usr/lib/python3/dist-packages/kubernetes-12.0.1.egg-info", Size: 1 << 20, Head: []byte(elfHead)},
	)
	for _, f := range files {
		var names []string
		for _, c := range Default() {
			if c.Wants(f) {
				names = append(names, c.Name())
			}
		}
		if len(names) > 1 {
			t.Errorf("%s is wanted by %v", f.Path, names)
		}
	}
}
