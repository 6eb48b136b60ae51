package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// platforms are the platforms of the image, in index order.
var platforms = []v1.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "arm64"},
}

// mainPackage is tokenguard's main package, relative to the module root.
const mainPackage = "./cmd/webhook"

// ldflags are the linker flags of a release build, as the Makefile's
// LDFLAGS and the Dockerfile have them.
func ldflags(version string) string { return "-s -w -X main.version=" + version }

// goBuildArgs are the arguments of go build for the image's binary.
func goBuildArgs(version, out string) []string {
	return []string{"build", "-trimpath", "-ldflags", ldflags(version), "-o", out, mainPackage}
}

// goBuild builds the static binary for p into dir, from the module at root,
// and returns its path.
func goBuild(ctx context.Context, goTool, root, dir string, p v1.Platform, version string) (string, error) {
	if p.Variant != "" {
		return "", fmt.Errorf("platform %s: variants are not built", p.String())
	}
	out := filepath.Join(dir, "tokenguard-"+p.OS+"-"+p.Architecture)
	cmd := exec.CommandContext(ctx, goTool, goBuildArgs(version, out)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Architecture)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build for %s: %v\n%s", p.String(), err, stderr.Bytes())
	}
	return out, nil
}

// moduleRoot is the folder of the main module's go.mod.
func moduleRoot(ctx context.Context, goTool string) (string, error) {
	out, err := exec.CommandContext(ctx, goTool, "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside the tokenguard module (go env GOMOD is %q)", gomod)
	}
	return filepath.Dir(gomod), nil
}
