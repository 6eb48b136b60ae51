// Command tokenguard is the tokenguard admission webhook and its command-line
// tools: check manifests, audit a cluster, read stale-token audit logs.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// version is stamped at build time: -ldflags "-X main.version=v0.1.0".
var version = "dev"

// Exit codes, for every subcommand (DESIGN.md).
const (
	exitOK       = 0
	exitFindings = 1
	exitUsage    = 2
)

const usage = `tokenguard keeps workloads that cannot refresh their bound service-account
tokens out of a Kubernetes cluster.

Usage:
  tokenguard serve [flags]                 run the admission webhook (HTTPS :8443, metrics :9090)
  tokenguard check [flags] PATH...         evaluate manifests offline (files, directories, - for stdin)
  tokenguard audit [flags]                 evaluate the workloads running in a cluster (kubeconfig)
  tokenguard stale-tokens [flags] PATH...  report service accounts using stale tokens, from API-server audit logs
  tokenguard controller [flags]            keep a report of every running workload current (OpenReports)
  tokenguard certs --out DIR               write a CA, a serving certificate and a caBundle patch for deploy/
  tokenguard version                       print the version, the catalog version, the commit and Go

Run "tokenguard COMMAND -h" for the flags of a command.
Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 bad input or usage.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "serve":
		return runServe(args[1:], stdout, stderr)
	case "check":
		return runCheck(args[1:], stdin, stdout, stderr)
	case "audit":
		return runAudit(args[1:], stdin, stdout, stderr)
	case "stale-tokens":
		return runStaleTokens(args[1:], stdin, stdout, stderr)
	case "controller":
		return runController(args[1:], stdout, stderr)
	case "certs":
		return runCerts(args[1:], stdout, stderr)
	case "version", "--version":
		printVersion(stdout)
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "tokenguard: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

// printVersion prints the release, then what a bug report needs: the
// embedded catalog's version, the commit and the Go toolchain.
func printVersion(w io.Writer) {
	fmt.Fprintf(w, "tokenguard %s\n", version)
	if c, err := policy.DefaultCatalog(); err == nil {
		fmt.Fprintf(w, "catalog    %s\n", c.Version())
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = " (modified)"
				}
			}
		}
		if rev != "" {
			fmt.Fprintf(w, "commit     %s%s\n", rev, modified)
		}
		fmt.Fprintf(w, "go         %s\n", bi.GoVersion)
	}
}
