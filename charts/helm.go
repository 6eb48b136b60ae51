package charts

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// EnvHelm names the helm binary to use; `make test` sets it to what
// hack/tools/helm/build.sh printed. Set but empty is an error (the build
// failed), never a reason to skip.
const EnvHelm = "TOKENGUARD_HELM"

// HelmModule is the tools module that pins helm, relative to the
// repository root.
const HelmModule = "hack/tools/helm"

// Dir is this directory (charts/).
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// RepoRoot is the repository's root.
func RepoRoot() string { return filepath.Dir(Dir()) }

// ChartDir is the tokenguard chart.
func ChartDir() string { return filepath.Join(Dir(), "tokenguard") }

// ErrNoHelm says that no helm binary was found and none was asked for
// (EnvHelm unset): tests skip on it.
var ErrNoHelm = errors.New("no helm binary")

// HelmPath returns the helm binary: $TOKENGUARD_HELM when set, else the
// one hack/tools/helm/build.sh caches at
// ${TOKENGUARD_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tokenguard/tools}/helm-<version>-<hash>/helm,
// where <hash> is the first 12 hex digits of the SHA-256 of the tools
// module's go.mod and go.sum. With the variable unset and no binary there,
// the error wraps ErrNoHelm and says how to build it; with the variable
// set, any problem is a plain error.
func HelmPath() (string, error) {
	if p, ok := os.LookupEnv(EnvHelm); ok {
		if p == "" {
			return "", fmt.Errorf("$%s is set but empty: hack/tools/helm/build.sh printed no binary (see its messages)", EnvHelm)
		}
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("$%s: %w", EnvHelm, err)
		}
		return p, nil
	}
	p, err := cachedHelm()
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%w: helm is not built at %s: run hack/tools/helm/build.sh (make test does), or set $%s", ErrNoHelm, p, EnvHelm)
	}
	return p, nil
}

// cachedHelm computes the path hack/tools/helm/build.sh (with
// hack/lib/cached-build.sh) builds helm to.
func cachedHelm() (string, error) {
	mod := filepath.Join(RepoRoot(), HelmModule)
	gomod, err := os.ReadFile(filepath.Join(mod, "go.mod"))
	if err != nil {
		return "", err
	}
	gosum, err := os.ReadFile(filepath.Join(mod, "go.sum"))
	if err != nil {
		return "", err
	}
	version := ""
	for _, line := range strings.Split(string(gomod), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == "require" && f[1] == "helm.sh/helm/v4" {
			version = f[2]
		} else if len(f) >= 2 && f[0] == "helm.sh/helm/v4" && strings.HasPrefix(f[1], "v") {
			version = f[1]
		}
	}
	if version == "" {
		return "", fmt.Errorf("%s/go.mod requires no helm.sh/helm/v4", HelmModule)
	}
	sum := sha256.Sum256(append(gomod, gosum...))
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
	return filepath.Join(root, "helm-"+version+"-"+hex.EncodeToString(sum[:])[:12], "helm"), nil
}

// Helm runs one helm binary in a home of its own (no user configuration,
// repositories or plugins are read; nothing is written outside it).
type Helm struct {
	Path string
	// Home holds helm's cache, configuration and data.
	Home string
	// Env is added to the environment (KUBECONFIG=..., say).
	Env []string
}

// Run runs helm with args and returns its standard output; an error
// carries its standard error.
func (h *Helm) Run(args ...string) ([]byte, error) {
	cmd := exec.Command(h.Path, args...)
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(h.Home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(h.Home, "config"),
		"HELM_DATA_HOME="+filepath.Join(h.Home, "data"),
		"HELM_NO_PLUGINS=1",
	)
	cmd.Env = append(cmd.Env, h.Env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("helm %s: %w\n%s%s", strings.Join(args, " "), err, stderr.Bytes(), stdout.Bytes())
	}
	return stdout.Bytes(), nil
}

// Template renders the chart as `helm template release ChartDir()
// --namespace namespace` with extra (values files, --set ...), returning
// the objects.
func (h *Helm) Template(release, namespace string, extra ...string) ([]map[string]any, error) {
	args := append([]string{"template", release, ChartDir(), "--namespace", namespace}, extra...)
	out, err := h.Run(args...)
	if err != nil {
		return nil, err
	}
	return Decode(out)
}

// Decode splits multi-document YAML into objects, skipping empty
// documents. Duplicate keys are errors.
func Decode(data []byte) ([]map[string]any, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []map[string]any
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return objs, nil
		}
		if err != nil {
			return nil, err
		}
		var o map[string]any
		if err := yaml.UnmarshalStrict(doc, &o); err != nil {
			return nil, fmt.Errorf("%w in:\n%s", err, doc)
		}
		if len(o) > 0 {
			objs = append(objs, o)
		}
	}
}

// CIValues lists the chart's ci/*-values.yaml files (absolute paths), the
// combinations of values the chart supports and its tests render.
func CIValues() ([]string, error) {
	files, err := filepath.Glob(filepath.Join(ChartDir(), "ci", "*-values.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New("no ci/*-values.yaml in the chart")
	}
	return files, nil
}
