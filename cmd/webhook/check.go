package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/tokenguard/tokenguard/pkg/engine"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/report"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect"
	"github.com/tokenguard/tokenguard/pkg/workload"
)

func runCheck(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", "check [flags] PATH...", stderr)
	output := fs.String("o", "text", "output format: text or json")
	failOn := fs.String("fail-on", "too-old", "exit 1 when a workload's verdict is at or above this: too-old or unknown")
	clusterVersion := fs.String("cluster-version", "", "control-plane version (e.g. v1.30) for the kube-proxy rule; without it kube-proxy is unknown")
	registry := fs.Bool("registry", false, "read image labels and SBOMs from registries (not available yet: only tags are used)")
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
	if *registry {
		fmt.Fprintln(stderr, "tokenguard check: --registry is not implemented yet; only image tags are used")
		return exitUsage
	}
	var controlPlane *policy.KubeVersion
	if *clusterVersion != "" {
		v, err := policy.ParseKubeVersion(*clusterVersion)
		if err != nil {
			fmt.Fprintf(stderr, "tokenguard check: --cluster-version: %v\n", err)
			return exitUsage
		}
		controlPlane = &v
	}
	catalog, err := policy.DefaultCatalog()
	if err != nil {
		fmt.Fprintf(stderr, "tokenguard check: the embedded catalog is invalid: %v\n", err)
		return exitUsage
	}
	eng := engine.New(catalog, sdkdetect.TagOnly{}, controlPlane)
	rep := checkManifests(context.Background(), eng, workload.Read(paths, stdin))
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

// checkManifests judges every workload read from manifests.
func checkManifests(ctx context.Context, eng *engine.Engine, in workload.Result) *report.Report {
	rep := &report.Report{Skipped: in.Skipped}
	for i := range in.Workloads {
		w := &in.Workloads[i]
		findings, verdict := eng.Judge(ctx, &w.Pod)
		rep.Results = append(rep.Results, report.Result{
			Kind: w.Kind, Namespace: w.Namespace, Name: w.Name,
			Verdict: verdict, Findings: findings,
			Source: w.Source, Document: w.Document,
		})
	}
	for _, e := range in.Errors {
		rep.Errors = append(rep.Errors, report.Error{Source: e.Source, Document: e.Document, Field: e.Field, Message: e.Error()})
	}
	rep.Finish()
	return rep
}
