// Command image builds tokenguard's container image without Docker: the
// static binary for linux/amd64 and linux/arm64 on a minimal base made from
// Debian's ca-certificates (as gcr.io/distroless/static:nonroot is), in one
// OCI index, each platform image with an SPDX SBOM of its binary attached
// as an OCI referrer. It writes an OCI layout and pushes it when asked:
//
//	go run ./hack/image -version v0.1.0 -base "$(hack/image/fetch-base.sh | tail -1)" \
//	    [-out bin/image] [-push ghcr.io/tokenguard/tokenguard:v0.1.0]
//
// make image runs it. The build is reproducible: every time in it (config,
// labels, layer mtimes, SBOM) is SOURCE_DATE_EPOCH or the commit's time.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	fs.SetOutput(stderr)
	version := fs.String("version", "dev", "the release: main.version of the binary, the version label and the layout's tag")
	revision := fs.String("revision", "", "the git commit for the revision label (default: git rev-parse HEAD)")
	created := fs.String("created", "", "the build time in Unix seconds, for the config, labels, layer mtimes and SBOM (default: $SOURCE_DATE_EPOCH, else the commit's time)")
	baseDir := fs.String("base", "", "the folder hack/image/fetch-base.sh filled with the Debian packages of base.txt (required)")
	out := fs.String("out", "bin/image", "the OCI layout to write; what is there is replaced")
	push := fs.String("push", "", "also push to this reference (host/repo:tag), with the SBOMs as referrers; credentials from the docker config")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || *baseDir == "" {
		fmt.Fprintln(stderr, "usage: image -base DIR [-version V] [-out DIR] [-push REF]")
		return 2
	}
	var ref name.Reference
	if *push != "" {
		var err error
		if ref, err = name.ParseReference(*push); err != nil {
			fmt.Fprintf(stderr, "image: -push: %v\n", err)
			return 2
		}
	}
	if err := build(ctx, options{version: *version, revision: *revision, created: *created, baseDir: *baseDir, out: *out, push: ref}, stdout); err != nil {
		fmt.Fprintf(stderr, "image: %v\n", err)
		return 1
	}
	return 0
}

type options struct {
	version, revision, created, baseDir, out string
	push                                     name.Reference
}

func build(ctx context.Context, o options, stdout io.Writer) error {
	goTool := os.Getenv("GO")
	if goTool == "" {
		goTool = "go"
	}
	root, err := moduleRoot(ctx, goTool)
	if err != nil {
		return err
	}
	m, err := resolveMeta(ctx, root, o.version, o.revision, o.created, os.Getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		return err
	}
	pins, err := parsePins(basePins)
	if err != nil {
		return err
	}
	b, err := loadBase(o.baseDir, pins, m.Created)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "tokenguard-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var bins []binary
	for _, p := range platforms {
		path, err := goBuild(ctx, goTool, root, tmp, p, m.Version)
		if err != nil {
			return err
		}
		bins = append(bins, binary{platform: p, path: path})
	}
	img, err := assemble(m, b, bins)
	if err != nil {
		return err
	}
	digest, err := img.index.Digest()
	if err != nil {
		return err
	}
	if err := writeLayout(o.out, img.layoutIndex(m.Version)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: tokenguard %s for %d platforms, index %s, %d CA certificates\n", o.out, m.Version, len(bins), digest, b.certs)
	if o.push == nil {
		return nil
	}
	pushed, err := pushLayout(ctx, o.out, o.push, remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithUserAgent("tokenguard-hack-image"))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "pushed %s@%s with its SBOMs\n", o.push.Context(), pushed)
	return nil
}

// resolveMeta fills in the revision and the creation time: given, else
// from git (HEAD and its commit time; SOURCE_DATE_EPOCH first for the
// time, as reproducible builds define it).
func resolveMeta(ctx context.Context, root, version, revision, created, sourceDateEpoch string) (meta, error) {
	m := meta{Version: version, Revision: revision}
	if m.Version == "" {
		return m, fmt.Errorf("an empty -version")
	}
	if m.Revision == "" {
		m.Revision = gitOutput(ctx, root, "rev-parse", "HEAD")
	}
	if created == "" {
		created = sourceDateEpoch
	}
	if created == "" {
		created = gitOutput(ctx, root, "log", "-1", "--format=%ct")
	}
	if created == "" {
		return m, fmt.Errorf("no build time: give -created or SOURCE_DATE_EPOCH (Unix seconds), or build in a git checkout")
	}
	secs, err := strconv.ParseInt(created, 10, 64)
	if err != nil || secs < 0 {
		return m, fmt.Errorf("build time %q: want Unix seconds", created)
	}
	m.Created = time.Unix(secs, 0).UTC()
	return m, nil
}

// gitOutput runs a read-only git command in dir; "" when it fails.
func gitOutput(ctx context.Context, dir string, args ...string) string {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
