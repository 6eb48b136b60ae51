package filecat

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// javaArchive reads Java archives (*.jar, *.war, *.ear) and the archives
// nested in them (Spring Boot's BOOT-INF/lib/, WEB-INF/lib/, an EAR's
// modules and lib/), to a nesting depth of maxJavaDepth. An archive is
// identified by its META-INF/maven/GROUP/ARTIFACT/pom.properties (all of
// them: a shaded jar holds those of what it bundles); failing those by
// its META-INF/MANIFEST.MF (Bundle-SymbolicName and Bundle-Version, or
// Implementation-Vendor-Id, -Title and -Version); failing that, when the
// manifest names no artifact, by its file name (client-java-9.0.0.jar),
// for the artifact names no other project uses.
//
// Archives are streamed, not buffered: entries are read through their
// local headers (zipstream.go) in the order they are stored, an archive
// nested in another is read from its entry's (inflated) bytes as they
// come, and only pom.properties and manifests are held, up to
// maxJavaMeta bytes each. Memory is a few buffers per nesting level,
// whatever the archive's size. A zip bomb costs time only, which the
// inflate budget bounds: 8 times the file's size plus
// Limits.MaxFileBytes inflated in all.
type javaArchive struct{}

const (
	// maxJavaDepth is how deep archives are read: a top-level archive, one
	// nested in it (a WAR in an EAR, a jar in a fat jar), and one nested in
	// that (a jar in a WAR in an EAR).
	maxJavaDepth = 3
	// maxJavaMeta bounds a pom.properties or manifest read.
	maxJavaMeta = 64 << 10
	// maxJavaPreamble bounds what may come before an archive's first entry
	// (the launch script of a fully executable Spring Boot jar).
	maxJavaPreamble = 1 << 20
)

func (javaArchive) Name() string { return NameJavaArchive }

// Wants takes files named like Java archives that start like a zip or,
// for executable jars, like a script.
func (javaArchive) Wants(f File) bool {
	_, base := cutLast(f.Path)
	return isJavaArchiveName(base) &&
		(bytes.HasPrefix(f.Head, []byte(zipLocalSig)) || bytes.HasPrefix(f.Head, []byte("#!")))
}

func isJavaArchiveName(name string) bool {
	return hasSuffixFold(name, ".jar") || hasSuffixFold(name, ".war") || hasSuffixFold(name, ".ear")
}

func (c javaArchive) Read(f File, r io.Reader, lim Limits) (Result, error) {
	src := &source{r: r}
	res := newResults(c.Name())
	budget := lim.maxFile()
	if f.Size > 0 {
		budget += 8 * f.Size
	}
	z := newZipStream(src, budget, lim.capped(maxJavaMeta))
	if z.skipPreamble(maxJavaPreamble) {
		j := javaReader{res: res, z: z}
		j.archive(0, f.Path)
		if z.overBudget {
			res.note(f.Path, fmt.Sprintf("archive inflates to more than %d bytes: not read to its end", budget))
		}
	}
	return src.finish(f, res)
}

// javaReader identifies the archives of one file.
type javaReader struct {
	res *results
	z   *zipStream
}

// archiveInfo is what an archive says about itself.
type archiveInfo struct {
	poms     []mavenID
	manifest *manifest
}

type mavenID struct{ group, artifact, version string }

// archive reads the archive at nesting level depth (0 for the file) and
// reports what it and the archives in it are.
func (j *javaReader) archive(depth int, path string) {
	var a archiveInfo
	tooDeep, firstTooDeep := 0, ""
	count, problem := j.z.entries(depth, func(e *zipEntry) {
		if j.z.overBudget {
			return
		}
		name := e.name
		switch {
		case strings.EqualFold(name, "META-INF/MANIFEST.MF"):
			if b, ok := j.content(e, path); ok {
				a.manifest = parseManifest(b)
			}
		case strings.HasPrefix(name, "META-INF/maven/") && strings.HasSuffix(name, "/pom.properties"):
			if b, ok := j.content(e, path); ok {
				a.poms = append(a.poms, parsePomProperties(b, name))
			}
		case isJavaArchiveName(name) && !strings.HasSuffix(name, "/"):
			if depth+1 >= maxJavaDepth {
				if tooDeep++; tooDeep == 1 {
					firstTooDeep = name
				}
				return
			}
			nested := path + "!/" + name
			if problem := e.openNested(); problem != "" {
				j.res.note(nested, problem)
				return
			}
			j.archive(depth+1, nested)
		}
	})
	if count > 0 {
		// An archive of which nothing could be read is not named by its
		// file name.
		j.identify(path, &a)
	}
	if problem != "" && !j.z.overBudget {
		j.res.note(path, problem)
	}
	if tooDeep > 0 {
		j.res.note(path, fmt.Sprintf("holds %d archives (%s, ...) nested more than %d deep: not read", tooDeep, firstTooDeep, maxJavaDepth))
	}
}

// content reads a metadata entry.
func (j *javaReader) content(e *zipEntry, path string) ([]byte, bool) {
	b, problem := e.readAll()
	if problem != "" {
		j.res.note(path+"!/"+e.name, problem)
		return nil, false
	}
	return b, true
}

// identify reports what an archive is, from its pom.properties, else its
// manifest, else its file name.
func (j *javaReader) identify(path string, a *archiveInfo) {
	if len(a.poms) > 0 {
		for _, p := range a.poms {
			if p.version != "" && wantedMaven(p.group, p.artifact) != nil {
				j.res.found(path, "maven", p.group, p.artifact, p.version)
			}
		}
		return
	}
	if m := a.manifest; m != nil {
		if id, ok := m.identify(); ok {
			j.res.found(path, "maven", id.group, id.artifact, id.version)
			return
		}
	}
	_, base := cutLast(path)
	if !isJavaArchiveName(base) {
		return
	}
	stem := base[:len(base)-len(".jar")]
	artifact, version, ok := splitVersion(stem)
	if !ok {
		return
	}
	// A manifest that names another artifact wins over the file name; one
	// that names the same (Implementation-Title: client-java, without a
	// vendor id) confirms it.
	if m := a.manifest; m != nil && m.names() && !m.namesArtifact(artifact) {
		return
	}
	if w := wantedMavenFileName(artifact); w != nil {
		j.res.found(path, "maven", w.namespace, artifact, version)
	}
}

// splitVersion splits NAME-VERSION at the last '-' followed by a digit.
func splitVersion(stem string) (name, version string, ok bool) {
	for i := len(stem) - 2; i > 0; i-- {
		if stem[i] == '-' && isDigit(stem[i+1]) {
			return stem[:i], stem[i+1:], true
		}
	}
	return "", "", false
}

// wantedMavenFileName returns the one wanted artifact a file name may
// identify, or nil (none, or more than one group has it).
func wantedMavenFileName(artifact string) *wanted {
	var found *wanted
	for i := range wantedPackages {
		w := &wantedPackages[i]
		if w.typ != "maven" || !w.fileName || !w.matchName(artifact) {
			continue
		}
		if found != nil && found.namespace != w.namespace {
			return nil
		}
		found = w
	}
	return found
}

// parsePomProperties reads groupId, artifactId and version from a
// pom.properties (Java properties: key=value, key: value or key value;
// comments start with '#' or '!'). Missing group and artifact come from
// the entry's path, META-INF/maven/GROUP/ARTIFACT/pom.properties.
func parsePomProperties(b []byte, entry string) mavenID {
	var id mavenID
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' || line[0] == '!' {
			continue
		}
		i := bytes.IndexAny(line, "=: \t")
		if i < 0 {
			continue
		}
		key := string(line[:i])
		rest := bytes.TrimLeft(line[i:], " \t")
		if len(rest) > 0 && (rest[0] == '=' || rest[0] == ':') {
			rest = rest[1:]
		}
		value := bytes.TrimSpace(rest)
		switch key {
		case "groupId":
			id.group = string(value)
		case "artifactId":
			id.artifact = string(value)
		case "version":
			id.version = string(value)
		}
	}
	if id.group == "" || id.artifact == "" {
		rest := strings.TrimSuffix(strings.TrimPrefix(entry, "META-INF/maven/"), "/pom.properties")
		if g, a, ok := strings.Cut(rest, "/"); ok && !strings.Contains(a, "/") {
			if id.group == "" {
				id.group = g
			}
			if id.artifact == "" {
				id.artifact = a
			}
		}
	}
	return id
}

// manifest holds the main section attributes of a MANIFEST.MF that name
// an artifact.
type manifest struct {
	bundleSymbolicName, bundleVersion                     string
	implementationVendorID, implementationTitle, implVers string
}

// parseManifest reads the main section of a manifest: "Name: value"
// lines up to the first blank line, a line starting with a space
// continuing the one before.
func parseManifest(b []byte) *manifest {
	m := &manifest{}
	var key string
	var value []byte
	flush := func() {
		v := string(bytes.TrimSpace(value))
		switch {
		case strings.EqualFold(key, "Bundle-SymbolicName"):
			// Directives follow a ';': "x.y;singleton:=true".
			v, _, _ = strings.Cut(v, ";")
			m.bundleSymbolicName = strings.TrimSpace(v)
		case strings.EqualFold(key, "Bundle-Version"):
			m.bundleVersion = v
		case strings.EqualFold(key, "Implementation-Vendor-Id"):
			m.implementationVendorID = v
		case strings.EqualFold(key, "Implementation-Title"):
			m.implementationTitle = v
		case strings.EqualFold(key, "Implementation-Version"):
			m.implVers = v
		}
		key, value = "", value[:0]
	}
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' {
			if key != "" {
				value = append(value, line[1:]...)
			}
			continue
		}
		flush()
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		key = string(bytes.TrimSpace(k))
		value = append(value, bytes.TrimLeft(v, " ")...)
	}
	flush()
	return m
}

// identify returns the wanted artifact a manifest names, with its
// version.
func (m *manifest) identify() (mavenID, bool) {
	for i := range wantedPackages {
		w := &wantedPackages[i]
		if w.typ != "maven" {
			continue
		}
		if rest, ok := strings.CutPrefix(m.bundleSymbolicName, w.namespace+"."); ok &&
			w.matchName(rest) && m.bundleVersion != "" {
			return mavenID{w.namespace, rest, m.bundleVersion}, true
		}
		if m.implementationVendorID == w.namespace && w.matchName(m.implementationTitle) && m.implVers != "" {
			return mavenID{w.namespace, m.implementationTitle, m.implVers}, true
		}
	}
	return mavenID{}, false
}

// namesArtifact reports whether the manifest's title or symbolic name is
// artifact (the symbolic name may carry a group prefix).
func (m *manifest) namesArtifact(artifact string) bool {
	return strings.EqualFold(m.implementationTitle, artifact) ||
		strings.EqualFold(m.bundleSymbolicName, artifact) || strings.HasSuffix(strings.ToLower(m.bundleSymbolicName), "."+strings.ToLower(artifact))
}

// names reports whether a manifest names its artifact (so that the file
// name must not be taken for another one).
func (m *manifest) names() bool {
	return m.bundleSymbolicName != "" || m.implementationTitle != ""
}
