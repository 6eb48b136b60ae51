package corpus

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tokenguard/tokenguard/pkg/sdkdetect"
)

// SyftPath is the syft binary hack/tools/syft/build.sh builds:
// $TOKENGUARD_SYFT, else
// ${TOKENGUARD_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tokenguard/tools}/syft-<version>-<go.sum hash>/syft.
// The error says how to build it.
func SyftPath() (string, error) {
	if p := os.Getenv("TOKENGUARD_SYFT"); p != "" {
		return p, nil
	}
	mod := filepath.Join(sourceDir(), "..", "..", "hack", "tools", "syft")
	gomod, err := os.ReadFile(filepath.Join(mod, "go.mod"))
	if err != nil {
		return "", err
	}
	gosum, err := os.ReadFile(filepath.Join(mod, "go.sum"))
	if err != nil {
		return "", err
	}
	var version string
	for _, line := range strings.Split(string(gomod), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == "require" && f[1] == "github.com/anchore/syft" {
			version = f[2]
		} else if len(f) >= 2 && f[0] == "github.com/anchore/syft" {
			version = f[1]
		}
	}
	sum := sha256.Sum256(gosum)
	root := os.Getenv("TOKENGUARD_TOOLS_CACHE")
	if root == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", err
			}
			cache = filepath.Join(home, ".cache")
		}
		root = filepath.Join(cache, "tokenguard", "tools")
	}
	p := filepath.Join(root, "syft-"+version+"-"+hex.EncodeToString(sum[:])[:12], "syft")
	if !fileExists(p) {
		return "", fmt.Errorf("syft %s is not built at %s: run hack/tools/syft/build.sh (or hack/layer-corpus.sh)", version, p)
	}
	return p, nil
}

// SyftEnv keeps syft offline and quiet against a plain-HTTP registry on
// 127.0.0.1: no update check, no remote license or Maven look-ups.
var SyftEnv = []string{
	"SYFT_CHECK_FOR_APP_UPDATE=false",
	"SYFT_REGISTRY_INSECURE_USE_HTTP=true",
	"SYFT_JAVA_USE_NETWORK=false",
	"SYFT_GOLANG_SEARCH_REMOTE_LICENSES=false",
	"SYFT_JAVASCRIPT_SEARCH_REMOTE_LICENSES=false",
	"SYFT_PYTHON_SEARCH_REMOTE_LICENSES=false",
}

// SyftPackage is one package syft catalogued.
type SyftPackage struct {
	Name, Version, Type, PURL string
	// ID is the purl's identity, as WantPackage.ID writes it ("" when
	// syft gave no parsable purl).
	ID string
	// Paths are where syft found it.
	Paths []string
}

// SyftRun is one `syft scan`.
type SyftRun struct {
	Args     []string
	Packages []SyftPackage
	Wall     time.Duration
	// MaxRSS is syft's peak resident set in bytes.
	MaxRSS int64
}

// gnuTime is GNU time, which measures a child it forks itself: the
// rusage of a child started straight from a large test process reports
// that process's resident set as the child's peak (the peak of the memory
// image replaced by exec is carried over), so the corpus test would
// report its own size.
const gnuTime = "/usr/bin/time"

// Syft runs `syft scan registry:<ref> -o syft-json` (with --platform when
// platform is set) and returns its packages, wall time and peak RSS
// (through GNU time when installed, else from rusage, then an upper
// bound).
func Syft(bin, ref, platform string) (SyftRun, error) {
	run := SyftRun{Args: []string{"scan", "registry:" + ref, "-o", "syft-json", "-q"}}
	if platform != "" {
		run.Args = append(run.Args, "--platform", platform)
	}
	cmd := exec.Command(bin, run.Args...)
	var rssFile string
	if fileExists(gnuTime) {
		f, err := os.CreateTemp("", "syft-rss-*")
		if err != nil {
			return run, err
		}
		f.Close()
		rssFile = f.Name()
		defer os.Remove(rssFile)
		cmd = exec.Command(gnuTime, append([]string{"-f", "%M", "-o", rssFile, bin}, run.Args...)...)
	}
	cmd.Env = append(os.Environ(), SyftEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	run.Wall = time.Since(start)
	if rssFile != "" {
		b, _ := os.ReadFile(rssFile)
		if kb, perr := strconv.ParseInt(strings.TrimSpace(lastLine(string(b))), 10, 64); perr == nil {
			run.MaxRSS = kb * 1024
		}
	} else if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			run.MaxRSS = ru.Maxrss * 1024 // kilobytes on Linux
		}
	}
	if err != nil {
		return run, fmt.Errorf("syft %s: %v\n%s", strings.Join(run.Args, " "), err, stderr.String())
	}
	var doc struct {
		Artifacts []struct {
			Name, Version, Type, PURL string
			Locations                 []struct {
				Path       string `json:"path"`
				AccessPath string `json:"accessPath"`
			}
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		return run, fmt.Errorf("syft %s: reading its syft-json: %v", ref, err)
	}
	for _, a := range doc.Artifacts {
		p := SyftPackage{Name: a.Name, Version: a.Version, Type: a.Type, PURL: a.PURL}
		if u, err := sdkdetect.ParsePURL(a.PURL); err == nil {
			p.ID = WantPackage{Type: u.Type, Namespace: u.Namespace, Name: u.Name}.ID()
		}
		for _, l := range a.Locations {
			path := l.Path
			if l.AccessPath != "" && l.AccessPath != l.Path {
				path += " (via " + l.AccessPath + ")"
			}
			p.Paths = append(p.Paths, path)
		}
		run.Packages = append(run.Packages, p)
	}
	return run, nil
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
