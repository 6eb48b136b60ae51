package corpus

import (
	"archive/zip"
	"bytes"
	"hash/crc32"
	"strings"
)

// jarEntry is one member of a jar.
type jarEntry struct {
	name string
	data []byte
	// stored writes the member uncompressed, as Spring Boot requires of
	// the jars in BOOT-INF/lib (it maps them in place).
	stored bool
}

// writeJar writes a jar: META-INF/ and its MANIFEST.MF first, as the jar
// tool and Maven do, then the other members in order; every parent
// directory has its own entry, as Maven writes them.
func writeJar(manifest string, entries []jarEntry) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	seen := map[string]bool{}
	dir := func(name string) error {
		for i := 0; i < len(name); i++ {
			if name[i] != '/' || seen[name[:i+1]] {
				continue
			}
			seen[name[:i+1]] = true
			if _, err := zw.CreateHeader(&zip.FileHeader{Name: name[:i+1], Method: zip.Store, Modified: epoch}); err != nil {
				return err
			}
		}
		return nil
	}
	all := append([]jarEntry{{name: "META-INF/MANIFEST.MF", data: []byte(manifest)}}, entries...)
	for _, e := range all {
		if err := dir(e.name); err != nil {
			return nil, err
		}
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: epoch}
		if e.stored {
			h.Method = zip.Store
			h.CRC32 = crc32.ChecksumIEEE(e.data)
			h.CompressedSize64 = uint64(len(e.data))
			h.UncompressedSize64 = uint64(len(e.data))
			w, err := zw.CreateRaw(h)
			if err != nil {
				return nil, err
			}
			if _, err := w.Write(e.data); err != nil {
				return nil, err
			}
			continue
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// manifest renders MANIFEST.MF main attributes: "Name: value" lines ending
// in CRLF, then the blank line that ends the main section.
func manifest(attrs ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(attrs); i += 2 {
		b.WriteString(attrs[i] + ": " + attrs[i+1] + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// classFile is a placeholder class: the magic and version of a Java 8
// class file, enough for a tool that peeks at it.
func classFile() []byte {
	return []byte{0xCA, 0xFE, 0xBA, 0xBE, 0x00, 0x00, 0x00, 0x34}
}

// mavenJar is a library jar as Maven's jar plugin writes it: manifest,
// classes, META-INF/maven/GROUP/ARTIFACT/pom.properties and pom.xml.
// With pom false only the manifest and classes are there, as in a jar
// built by another tool.
func mavenJar(group, artifact, version string, pom bool, classes ...string) ([]byte, error) {
	mf := manifest(
		"Manifest-Version", "1.0",
		"Created-By", "Maven JAR Plugin 3.3.0",
		"Build-Jdk-Spec", "1.8",
		"Implementation-Title", artifact,
		"Implementation-Version", version,
	)
	var entries []jarEntry
	for _, c := range classes {
		entries = append(entries, jarEntry{name: c, data: classFile()})
	}
	if pom {
		base := "META-INF/maven/" + group + "/" + artifact + "/"
		entries = append(entries,
			jarEntry{name: base + "pom.xml", data: []byte(pomXML(group, artifact, version))},
			jarEntry{name: base + "pom.properties", data: []byte(
				"#Created by Apache Maven 3.8.6\nartifactId=" + artifact + "\ngroupId=" + group + "\nversion=" + version + "\n")},
		)
	}
	return writeJar(mf, entries)
}

func pomXML(group, artifact, version string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 http://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>` + group + `</groupId>
  <artifactId>` + artifact + `</artifactId>
  <version>` + version + `</version>
  <packaging>jar</packaging>
</project>
`
}

// bootLib is a library of a Spring Boot jar.
type bootLib struct {
	group, artifact, version string
	classes                  []string
}

// springBootJar is an executable Spring Boot 3 jar ("fat jar"): the
// launcher's manifest, the application's classes under BOOT-INF/classes,
// its pom.properties, and each library jar stored uncompressed under
// BOOT-INF/lib, listed in BOOT-INF/classpath.idx.
func springBootJar(group, artifact, version string, libs []bootLib) ([]byte, error) {
	mf := manifest(
		"Manifest-Version", "1.0",
		"Created-By", "Maven JAR Plugin 3.3.0",
		"Build-Jdk-Spec", "17",
		"Implementation-Title", artifact,
		"Implementation-Version", version,
		"Main-Class", "org.springframework.boot.loader.launch.JarLauncher",
		"Start-Class", "com.example.demo.DemoApplication",
		"Spring-Boot-Version", "3.2.1",
		"Spring-Boot-Classes", "BOOT-INF/classes/",
		"Spring-Boot-Lib", "BOOT-INF/lib/",
		"Spring-Boot-Classpath-Index", "BOOT-INF/classpath.idx",
		"Spring-Boot-Layers-Index", "BOOT-INF/layers.idx",
	)
	entries := []jarEntry{
		{name: "org/springframework/boot/loader/launch/JarLauncher.class", data: classFile()},
		{name: "BOOT-INF/classes/com/example/demo/DemoApplication.class", data: classFile()},
		{name: "BOOT-INF/classes/application.properties", data: []byte("spring.application.name=" + artifact + "\n")},
	}
	var idx strings.Builder
	for _, l := range libs {
		b, err := mavenJar(l.group, l.artifact, l.version, true, l.classes...)
		if err != nil {
			return nil, err
		}
		name := "BOOT-INF/lib/" + l.artifact + "-" + l.version + ".jar"
		entries = append(entries, jarEntry{name: name, data: b, stored: true})
		idx.WriteString("- \"" + name + "\"\n")
	}
	entries = append(entries,
		jarEntry{name: "BOOT-INF/classpath.idx", data: []byte(idx.String())},
		jarEntry{name: "BOOT-INF/layers.idx", data: []byte("- \"dependencies\":\n  - \"BOOT-INF/lib/\"\n- \"spring-boot-loader\":\n  - \"org/\"\n- \"snapshot-dependencies\":\n- \"application\":\n  - \"BOOT-INF/classes/\"\n  - \"BOOT-INF/classpath.idx\"\n  - \"BOOT-INF/layers.idx\"\n  - \"META-INF/\"\n")},
		jarEntry{name: "META-INF/maven/" + group + "/" + artifact + "/pom.xml", data: []byte(pomXML(group, artifact, version))},
		jarEntry{name: "META-INF/maven/" + group + "/" + artifact + "/pom.properties", data: []byte(
			"#Created by Apache Maven 3.9.6\nartifactId=" + artifact + "\ngroupId=" + group + "\nversion=" + version + "\n")},
	)
	return writeJar(mf, entries)
}
