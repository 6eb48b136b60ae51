package main

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The Dockerfile stays for those with Docker (make docker-image); these
// tests keep it saying what the Go builder does.

// dockerStage is what the tests read of a Dockerfile: its final stage, and
// the go build command of any stage.
type dockerStage struct {
	from       string
	user       string
	entrypoint []string
	cmd        []string
	expose     []string // "8443/tcp", sorted
	copyDest   []string // destinations of the COPY --from=... lines
	goBuild    string   // the RUN line that runs go build
}

// parseDockerfile reads a Dockerfile: comments dropped, continuation lines
// joined, instructions in any case; ENTRYPOINT and CMD must be in exec
// (JSON) form.
func parseDockerfile(text string) (dockerStage, error) {
	var st dockerStage
	var lines []string
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if body, ok := strings.CutSuffix(trimmed, "\\"); ok {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(trimmed)
		if s := strings.TrimSpace(cur.String()); s != "" {
			lines = append(lines, s)
		}
		cur.Reset()
	}
	for _, line := range lines {
		instr, args, _ := strings.Cut(line, " ")
		args = strings.TrimSpace(args)
		switch strings.ToUpper(instr) {
		case "FROM":
			st = dockerStage{goBuild: st.goBuild}
			for _, f := range strings.Fields(args) {
				if !strings.HasPrefix(f, "--") {
					st.from = f
					break
				}
			}
		case "USER":
			st.user = args
		case "EXPOSE":
			for _, p := range strings.Fields(args) {
				if !strings.Contains(p, "/") {
					p += "/tcp"
				}
				st.expose = append(st.expose, p)
			}
			slices.Sort(st.expose)
		case "ENTRYPOINT", "CMD":
			var v []string
			if err := json.Unmarshal([]byte(args), &v); err != nil {
				return st, fmt.Errorf("%s %s: not in exec form (a JSON array): %v", instr, args, err)
			}
			if strings.ToUpper(instr) == "CMD" {
				st.cmd = v
			} else {
				st.entrypoint = v
			}
		case "COPY":
			f := strings.Fields(args)
			if len(f) > 0 && strings.HasPrefix(f[0], "--from=") {
				st.copyDest = append(st.copyDest, f[len(f)-1])
			}
		case "RUN":
			if strings.Contains(args, "go build") {
				st.goBuild = args
			}
		}
	}
	if st.from == "" {
		return st, fmt.Errorf("no FROM")
	}
	return st, nil
}

// dockerfileDiffs lists where the stage differs from the Go builder.
func dockerfileDiffs(st dockerStage) []string {
	var diffs []string
	check := func(what string, got, want any) {
		if !reflect.DeepEqual(got, want) {
			diffs = append(diffs, fmt.Sprintf("%s: the Dockerfile has %q, hack/image %q", what, got, want))
		}
	}
	check("final base", st.from, dockerfileBase)
	check("USER", st.user, imageUser)
	check("ENTRYPOINT", st.entrypoint, entrypoint)
	check("CMD", st.cmd, command)
	check("EXPOSE", st.expose, exposedPorts)
	check("COPY --from destination", st.copyDest, []string{binaryPath})
	for _, want := range []string{"CGO_ENABLED=0", "go build -trimpath", `-ldflags "` + ldflags("${VERSION}") + `"`, mainPackage} {
		if !strings.Contains(st.goBuild, want) {
			diffs = append(diffs, fmt.Sprintf("go build: the Dockerfile's RUN %q lacks %q", st.goBuild, want))
		}
	}
	return diffs
}

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile("../../" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestDockerfileInStep: the Dockerfile's final base, user, entrypoint,
// command, ports, binary path and build flags are the Go builder's; and
// the Makefile's LDFLAGS (make build) are the builder's.
func TestDockerfileInStep(t *testing.T) {
	st, err := parseDockerfile(readRepoFile(t, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dockerfileDiffs(st) {
		t.Error(d)
	}
	want := "LDFLAGS := " + ldflags("$(VERSION)")
	if !slices.Contains(strings.Split(readRepoFile(t, "Makefile"), "\n"), want) {
		t.Errorf("the Makefile has no line %q: make build and make image would build different binaries", want)
	}
}

// TestDockerfileDiffsCanFail: every way the Dockerfile can drift from the
// builder is caught.
func TestDockerfileDiffsCanFail(t *testing.T) {
	text := readRepoFile(t, "Dockerfile")
	tests := []struct {
		name, old, new, want string
	}{
		{"another base", "FROM gcr.io/distroless/static:nonroot", "FROM gcr.io/distroless/static:latest", "final base"},
		{"root user", "USER 65532:65532", "USER 0", "USER"},
		{"no user", "USER 65532:65532\n", "", "USER"},
		{"entrypoint", `ENTRYPOINT ["/tokenguard"]`, `ENTRYPOINT ["/bin/tokenguard"]`, "ENTRYPOINT"},
		{"command", `CMD ["serve"]`, `CMD ["serve", "--v=2"]`, "CMD"},
		{"a port less", "EXPOSE 8443 9090", "EXPOSE 8443", "EXPOSE"},
		{"binary elsewhere", "/out/tokenguard /tokenguard", "/out/tokenguard /usr/bin/tokenguard", "COPY"},
		{"debug build", `-ldflags "-s -w -X main.version=${VERSION}"`, `-ldflags "-X main.version=${VERSION}"`, "go build"},
		{"cgo", "CGO_ENABLED=0", "CGO_ENABLED=1", "go build"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(text, tt.old) {
				t.Fatalf("the Dockerfile has no %q to change", tt.old)
			}
			st, err := parseDockerfile(strings.Replace(text, tt.old, tt.new, 1))
			if err != nil {
				t.Fatal(err)
			}
			diffs := dockerfileDiffs(st)
			if len(diffs) != 1 || !strings.HasPrefix(diffs[0], tt.want) {
				t.Errorf("diffs %q, want one about %s", diffs, tt.want)
			}
		})
	}
	if _, err := parseDockerfile(strings.Replace(text, `CMD ["serve"]`, "CMD serve", 1)); err == nil {
		t.Error("a shell-form CMD was read")
	}
}
