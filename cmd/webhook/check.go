package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/tokenguard/tokenguard/pkg/awsid"
	"github.com/tokenguard/tokenguard/pkg/config"
	"github.com/tokenguard/tokenguard/pkg/engine"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/report"
	"github.com/tokenguard/tokenguard/pkg/workload"
)

func runCheck(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", "check [flags] PATH...", stderr)
	output := fs.String("o", "text", "output format: text, json, sarif (SARIF 2.1.0, for code scanning) or junit (JUnit XML)")
	failOn := fs.String("fail-on", "too-old", "exit 1 when a workload's verdict is at or above this: too-old or unknown")
	clusterVersion := fs.String("cluster-version", "", "control-plane version (e.g. v1.30) for the kube-proxy rule; without it kube-proxy is unknown")
	configFile := fs.String("config", "", "a TokenGuardConfiguration (as serve reads it): catalog overrides, controlPlaneVersion and exemptions apply, so check agrees with admission")
	useRegistry := fs.Bool("registry", false, "read image labels and SBOMs from registries (credentials from the docker config / credential helpers)")
	registryTimeout := fs.Duration("registry-timeout", 30*time.Second, "with --registry: how long to wait for the registry lookups of one workload's images together")
	registryDeadline := fs.Duration("registry-deadline", 10*time.Minute, "with --registry: how long the whole run may wait for registries; past it, images not yet looked up are unknown with the reason")
	scanLayers := fs.Bool("scan-layers", false, "with --registry: when an image has no SBOM, read its SDK versions from its own files (layers stream from the registry, nothing is written to disk; budgets in the --config file's registry.layers); waits for each scan")
	var insecure, associations stringList
	fs.Var(&insecure, "insecure-registry", "with --registry: registry host[:port] reached over plain HTTP or unverified TLS (repeatable)")
	fs.Var(&associations, "pod-identity-associations", "the JSON of `aws eks list-pod-identity-associations --cluster-name NAME`: pods of the service accounts it lists get EKS Pod Identity credentials, so their AWS SDKs must support it (repeatable)")
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	switch *output {
	case "text", "json", "sarif", "junit":
	default:
		fmt.Fprintf(stderr, "tokenguard check: -o %q is not supported; use text, json, sarif or junit\n", *output)
		return exitUsage
	}
	threshold := policy.Verdict(*failOn)
	if threshold != policy.VerdictTooOld && threshold != policy.VerdictUnknown {
		fmt.Fprintf(stderr, "tokenguard check: --fail-on %q is not supported; use too-old or unknown\n", *failOn)
		return exitUsage
	}
	if len(paths) == 0 {
		fmt.Fprintln(stderr, "tokenguard check: give at least one file, directory, or - for stdin")
		fs.Usage()
		return exitUsage
	}
	cc, err := config.LoadCompiled(*configFile)
	if err == nil {
		err = cc.OverrideControlPlane(*clusterVersion)
	}
	if err != nil {
		fmt.Fprintf(stderr, "tokenguard check: %v\n", err)
		return exitUsage
	}
	if *scanLayers && !*useRegistry {
		fmt.Fprintln(stderr, "tokenguard check: --scan-layers reads layers from registries: add --registry")
		return exitUsage
	}
	dir, err := readAssociations(associations)
	if err != nil {
		fmt.Fprintf(stderr, "tokenguard check: %v\n", err)
		return exitUsage
	}
	var evidence engine.EvidenceSource
	budget := *registryTimeout
	if *useRegistry {
		o := registryOptions{timeout: *registryTimeout, extraInsecure: insecure, layers: layerOptions(cc, *scanLayers, true)}
		if *scanLayers {
			budget += cc.Registry.Layers.Timeout.Duration
			if p := newScanProgress(stderr); p != nil {
				o.metrics = p
				defer p.done()
			}
		}
		src := newRegistrySource(cc, o)
		defer src.Close()
		evidence = src
	}
	rep := report.NewSpool("")
	defer rep.Close()
	ctx := context.Background()
	if *useRegistry && *registryDeadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *registryDeadline)
		defer cancel()
	}
	// SARIF and JUnit point at lines: the manifests are read for them.
	lines := *output == "sarif" || *output == "junit"
	if err := checkManifests(ctx, newEngine(cc, evidence, budget, dir), dir, paths, stdin, rep, stderr, lines); err != nil {
		fmt.Fprintf(stderr, "tokenguard check: %v\n", err)
		return exitUsage
	}
	switch *output {
	case "json":
		err = rep.WriteJSON(stdout)
	case "sarif":
		err = rep.WriteSARIF(stdout, report.SARIFOptions{Catalog: cc.Catalog, Version: version})
	case "junit":
		err = rep.WriteJUnit(stdout, report.JUnitOptions{FailOn: threshold})
	default:
		err = rep.WriteText(stdout, stderr)
	}
	if err == nil && lines {
		// These files go to code scanning or a test report: the log says
		// what could not be read, as the text output does.
		err = rep.WriteErrors(stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "tokenguard check: writing output: %v\n", err)
		return exitUsage
	}
	switch {
	case rep.Errors() > 0:
		return exitUsage
	case rep.AtOrAbove(threshold):
		return exitFindings
	}
	return exitOK
}

// checkManifests judges each workload of the manifests at paths with the one
// evaluation (exemptions included), into rep; a path passed over (not a
// regular file, a link out of its directory) is a note on stderr.
// ServiceAccounts in the manifests go into dir (IRSA from their
// eks.amazonaws.com/role-arn annotation) before any workload is judged,
// since a service account may follow the Deployment that uses it: files
// are read twice, the first time for service accounts only, so that
// workloads are judged as they are read and memory does not grow with
// them; standard input, which cannot be read twice, is held in memory.
// With lines, each result also says on which lines of its file the object
// and its containers' images are.
func checkManifests(ctx context.Context, eng *engine.Engine, dir *awsid.Directory, paths []string, stdin io.Reader, rep *report.Spool, stderr io.Writer, lines bool) error {
	addServiceAccount := func(sa workload.ServiceAccount) { dir.AddServiceAccount(sa.Namespace, sa.Name, sa.Annotations) }
	fromStdin := slices.Contains(paths, "-")
	if !fromStdin {
		_ = workload.Walk(paths, nil, workload.Visitor{ServiceAccount: addServiceAccount})
	}
	judge := func(w *workload.Workload) error {
		r := eng.Evaluate(ctx, engine.Subject{Namespace: w.Namespace, Pod: &w.Pod})
		return rep.Add(report.Result{
			Kind: w.Kind, Namespace: w.Namespace, Name: w.Name,
			Verdict: r.Verdict, Findings: r.Findings,
			Source: w.Source, Document: w.Document,
			Line: w.Line, ImageLines: w.ImageLines,
		})
	}
	var held []workload.Workload
	v := workload.Visitor{
		Workload: func(w workload.Workload) error {
			if fromStdin {
				held = append(held, w)
				return nil
			}
			return judge(&w)
		},
		Error: func(e *workload.DocError) error {
			return rep.AddError(report.Error{Source: e.Source, Document: e.Document, Field: e.Field, Message: e.Error()})
		},
		Skipped: rep.Skip,
		Lines:   lines,
		Note: func(e *workload.DocError) {
			fmt.Fprintf(stderr, "tokenguard check: skipped %v\n", e)
		},
	}
	if fromStdin {
		v.ServiceAccount = addServiceAccount
	} else {
		v.ServiceAccount = func(workload.ServiceAccount) {} // read already
	}
	if err := workload.Walk(paths, stdin, v); err != nil {
		return err
	}
	for i := range held {
		if err := judge(&held[i]); err != nil {
			return err
		}
		held[i] = workload.Workload{} // let its memory go
	}
	return nil
}

// readAssociations reads --pod-identity-associations files into a new
// directory; an error names the file.
func readAssociations(files []string) (*awsid.Directory, error) {
	dir := &awsid.Directory{}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, fmt.Errorf("--pod-identity-associations: %w", err)
		}
		_, err = dir.ReadAssociations(io.LimitReader(fh, 64<<20))
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("--pod-identity-associations %s: %w", f, err)
		}
	}
	return dir, nil
}
