package corpus

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	_ "embed" // artifacts.txt
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// artifactList is the list hack/layer-corpus.sh fetches; its hash keys the
// cache folder, so both sides agree on where the files are.
//
//go:embed artifacts.txt
var artifactList []byte

// artifact is one line of artifacts.txt.
type artifact struct {
	kind, name, version string
}

// artifacts parses artifacts.txt.
func artifacts() []artifact {
	var out []artifact
	sc := bufio.NewScanner(bytes.NewReader(artifactList))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || strings.HasPrefix(f[0], "#") {
			continue
		}
		out = append(out, artifact{kind: f[0], name: f[1], version: f[2]})
	}
	return out
}

// file is the artifact's path under the corpus folder, as
// hack/layer-corpus.sh names it: npm/<name, @ dropped, / as ->-<version>.tgz
// and deb/<name>_<version>.tar (the .deb's files as a plain tar).
func (a artifact) file() string {
	switch a.kind {
	case "npm":
		return filepath.Join("npm", strings.ReplaceAll(strings.TrimPrefix(a.name, "@"), "/", "-")+"-"+a.version+".tgz")
	case "deb":
		return filepath.Join("deb", a.name+"_"+a.version+".tar")
	}
	return ""
}

// control is a deb artifact's control fields file.
func (a artifact) control() string {
	return filepath.Join("deb", a.name+"_"+a.version+".control")
}

// upstreamVersion is a Debian version without its epoch, revision and
// repack suffix: "1.29.27+repack-1" is 1.29.27, what the package's
// egg-info or gemspec records.
func (a artifact) upstreamVersion() string {
	v := a.version
	if i := strings.IndexByte(v, ':'); i >= 0 {
		v = v[i+1:]
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		v = v[:i]
	}
	for _, s := range []string{"+repack", "+dfsg", "+ds"} {
		if i := strings.Index(v, s); i >= 0 {
			v = v[:i]
		}
	}
	return v
}

// DefaultDir is the corpus folder hack/layer-corpus.sh fills:
// $TOKENGUARD_LAYER_CORPUS, else
// ${XDG_CACHE_HOME:-$HOME/.cache}/tokenguard/layer-corpus/<key>, where key is
// the first 12 hex digits of artifacts.txt's SHA-256.
func DefaultDir() string {
	if d := os.Getenv("TOKENGUARD_LAYER_CORPUS"); d != "" {
		return d
	}
	sum := sha256.Sum256(artifactList)
	key := hex.EncodeToString(sum[:])[:12]
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "tokenguard", "layer-corpus", key)
	}
	if d, err := os.UserHomeDir(); err == nil {
		return filepath.Join(d, ".cache", "tokenguard", "layer-corpus", key)
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("tokenguard-layer-corpus-%d", os.Getuid()), key)
}

// missingArtifacts lists the artifacts absent from dir.
func missingArtifacts(dir string) []string {
	var out []string
	for _, a := range artifacts() {
		if st, err := os.Stat(filepath.Join(dir, a.file())); err != nil || st.Size() == 0 {
			out = append(out, a.kind+":"+a.name+"@"+a.version)
		}
	}
	return out
}

// find returns the artifact of that kind and name, and its version prefix:
// find("npm", "aws-sdk", "2.1550.") picks the line whose version starts so.
func find(kind, name, versionPrefix string) (artifact, error) {
	for _, a := range artifacts() {
		if a.kind == kind && a.name == name && strings.HasPrefix(a.version, versionPrefix) {
			return a, nil
		}
	}
	return artifact{}, fmt.Errorf("artifacts.txt has no %s %s %s*", kind, name, versionPrefix)
}
