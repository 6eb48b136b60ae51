package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/tokenguard/tokenguard/pkg/config"
	"github.com/tokenguard/tokenguard/pkg/engine"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/report"
	"github.com/tokenguard/tokenguard/pkg/workload"
)

func runCheck(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", "check [flags] PATH...", stderr)
	output := fs.String("o", "text", "output format: text or json")
	failOn := fs.String("fail-on", "too-old", "exit 1 when a workload's verdict is at or above this: too-old or unknown")
	clusterVersion := fs.String("cluster-version", "", "control-plane version (e.g. v1.30) for the kube-proxy rule; without it kube-proxy is unknown")
	configFile := fs.String("config", "", "a TokenGuardConfiguration (as serve reads it): catalog overrides, controlPlaneVersion and exemptions apply, so check agrees with admission")
	useRegistry := fs.Bool("registry", false, "read image labels and SBOMs from registries (credentials from the docker config / credential helpers)")
	registryTimeout := fs.Duration("registry-timeout", 30*time.Second, "with --registry: how long to wait for one image's registry lookup")
	var insecure stringList
	fs.Var(&insecure, "insecure-registry", "with --registry: registry host[:port] reached over plain HTTP or unverified TLS (repeatable)")
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if *output != "text" && *output != "json" {
		fmt.Fprintf(stderr, "tokenguard check: -o %q is not supported; use text or json\n", *output)
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
	var evidence engine.EvidenceSource
	if *useRegistry {
		src := newRegistrySource(cc, registryOptions{timeout: *registryTimeout, extraInsecure: insecure})
		defer src.Close()
		evidence = src
	}
	rep := checkManifests(context.Background(), newEngine(cc, evidence), workload.Read(paths, stdin))
	if *output == "json" {
		err = report.WriteJSON(stdout, rep)
	} else {
		err = report.WriteText(stdout, stderr, rep)
	}
	if err != nil {
		fmt.Fprintf(stderr, "tokenguard check: writing output: %v\n", err)
		return exitUsage
	}
	switch {
	case len(rep.Errors) > 0:
		return exitUsage
	case rep.AtOrAbove(threshold):
		return exitFindings
	}
	return exitOK
}

// checkManifests judges every workload read from manifests with the one
// evaluation (exemptions included).
func checkManifests(ctx context.Context, eng *engine.Engine, in workload.Result) *report.Report {
	rep := &report.Report{Skipped: in.Skipped}
	for i := range in.Workloads {
		w := &in.Workloads[i]
		r := eng.Evaluate(ctx, engine.Subject{Namespace: w.Namespace, Pod: &w.Pod})
		rep.Results = append(rep.Results, report.Result{
			Kind: w.Kind, Namespace: w.Namespace, Name: w.Name,
			Verdict: r.Verdict, Findings: r.Findings,
			Source: w.Source, Document: w.Document,
		})
	}
	for _, e := range in.Errors {
		rep.Errors = append(rep.Errors, report.Error{Source: e.Source, Document: e.Document, Field: e.Field, Message: e.Error()})
	}
	rep.Finish()
	return rep
}
