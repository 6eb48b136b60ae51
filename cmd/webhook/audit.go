package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tokenguard/tokenguard/pkg/admission"
	"github.com/tokenguard/tokenguard/pkg/clusteraudit"
	"github.com/tokenguard/tokenguard/pkg/engine"
	"github.com/tokenguard/tokenguard/pkg/kube"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/report"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect"
	"github.com/tokenguard/tokenguard/pkg/staletoken"
)

const auditSynopsis = `audit [flags]

Evaluate what runs in a live cluster: list the Pods (of -n NAMESPACE, or of
all namespaces), group them by their owning workload (Deployment, StatefulSet,
DaemonSet, CronJob, Job, ReplicaSet, ReplicationController, or the bare Pod)
and judge each workload once, with the same engine as check and admission.
The cluster comes from --kubeconfig, else $KUBECONFIG or ~/.kube/config, else
the in-cluster config.`

// auditRequestTimeout bounds each request to the API server.
const auditRequestTimeout = 30 * time.Second

func runAudit(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("audit", auditSynopsis, stderr)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file of the cluster to audit")
	namespace := fs.String("n", "", "audit only this namespace")
	fs.StringVar(namespace, "namespace", "", "same as -n")
	allNamespaces := fs.Bool("all-namespaces", true, "audit every namespace (the default unless -n is given)")
	output := fs.String("o", "text", "output format: text or json")
	failOn := fs.String("fail-on", "too-old", "exit 1 when a workload's verdict is at or above this: too-old or unknown")
	clusterVersion := fs.String("cluster-version", "", "control-plane version (e.g. v1.30) for the kube-proxy rule; default: asked from the API server")
	useRegistry := fs.Bool("registry", false, "read image labels and SBOMs from registries (credentials from the docker config / credential helpers, and with --pull-secrets the pods' own)")
	usePullSecrets := fs.Bool("pull-secrets", false, "with --registry: also use each pod's image pull secrets and its service account's, read from the cluster (needs list/watch on secrets and serviceaccounts); default: the --config file's registry.pullSecrets")
	registryTimeout := fs.Duration("registry-timeout", 30*time.Second, "with --registry: how long to wait for one image's registry lookup")
	var insecure, staleFiles stringList
	fs.Var(&insecure, "insecure-registry", "with --registry: registry host[:port] reached over plain HTTP or unverified TLS (repeatable)")
	fs.Var(&staleFiles, "stale-tokens", "API-server audit log(s) to read (as stale-tokens does); the service accounts using stale tokens are joined to their workloads with the fix for each (repeatable; further arguments are more files)")
	preview := fs.String("preview-mode", "", `"enforce": list what would be denied if the namespace were in enforce mode`)
	unknown := fs.String("unknown", "allow", "with --preview-mode: how the configuration treats unknown verdicts: allow, warn or deny (default: the --config file's, else allow)")
	configFile := fs.String("config", "", "a TokenGuardConfiguration (as serve reads it): catalog overrides, controlPlaneVersion, unknown and exemptions apply")
	extra, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "tokenguard audit: "+format+"\n", a...)
		return exitUsage
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	threshold := policy.Verdict(*failOn)
	switch {
	case *output != "text" && *output != "json":
		return fail("-o %q is not supported; use text or json", *output)
	case threshold != policy.VerdictTooOld && threshold != policy.VerdictUnknown:
		return fail("--fail-on %q is not supported; use too-old or unknown", *failOn)
	case *namespace != "" && explicit["all-namespaces"] && *allNamespaces:
		return fail("give -n NAMESPACE or --all-namespaces, not both")
	case *namespace == "" && explicit["all-namespaces"] && !*allNamespaces:
		return fail("--all-namespaces=false needs -n NAMESPACE")
	case *preview != "" && *preview != "enforce":
		return fail("--preview-mode %q is not supported; use enforce", *preview)
	case *unknown != "allow" && *unknown != "warn" && *unknown != "deny":
		return fail("--unknown %q is not supported; use allow, warn or deny", *unknown)
	case explicit["unknown"] && *preview == "":
		return fail("--unknown only applies with --preview-mode enforce")
	case len(insecure) > 0 && !*useRegistry:
		return fail("--insecure-registry needs --registry")
	case explicit["pull-secrets"] && *usePullSecrets && !*useRegistry:
		return fail("--pull-secrets needs --registry")
	}
	if len(extra) > 0 {
		if len(staleFiles) == 0 {
			fmt.Fprintf(stderr, "tokenguard audit: unexpected argument %q (audit reads the cluster; files are only read with --stale-tokens)\n", extra[0])
			fs.Usage()
			return exitUsage
		}
		staleFiles = append(staleFiles, extra...)
	}
	tgConfig, catalog, exempter, err := loadConfig(*configFile)
	if err != nil {
		return fail("%v", err)
	}
	if !explicit["unknown"] && *configFile != "" {
		*unknown = string(tgConfig.Unknown)
	}
	if !explicit["pull-secrets"] {
		*usePullSecrets = *useRegistry && tgConfig.Registry.PullSecrets
	}
	if *clusterVersion == "" && tgConfig.ControlPlaneVersion != "" {
		*clusterVersion = tgConfig.ControlPlaneVersion
	}
	var controlPlane *policy.KubeVersion
	if *clusterVersion != "" {
		v, err := policy.ParseKubeVersion(*clusterVersion)
		if err != nil {
			return fail("--cluster-version: %v", err)
		}
		controlPlane = &v
	}

	// Bad input first: read the audit logs before reaching the cluster.
	var subjects []staletoken.Subject
	if len(staleFiles) > 0 {
		agg := staletoken.NewAggregator()
		failed := false
		for _, f := range readAuditLogs(agg, staleFiles, stdin) {
			if f.Error != "" {
				failed = true
				fmt.Fprintf(stderr, "tokenguard audit: --stale-tokens %s: %s\n", f.Source, f.Error)
			}
		}
		if failed {
			return exitUsage
		}
		subjects = agg.Result(staletoken.Policy{})
	}

	cfg, err := auditRestConfig(*kubeconfig)
	if err != nil {
		return fail("%v", err)
	}
	cfg.Timeout = auditRequestTimeout
	client, err := newKubeClient(cfg)
	if err != nil {
		return fail("%v", err)
	}
	ctx := context.Background()
	if controlPlane == nil {
		info, err := client.ServerVersion(ctx)
		if err != nil {
			return fail("%v; check that the API server is reachable with this kubeconfig, or give --cluster-version", err)
		}
		v, err := policy.ParseKubeVersion(info.GitVersion)
		if err != nil {
			return fail("the API server %s reports version %q: %v (give --cluster-version)", cfg.Host, info.GitVersion, err)
		}
		controlPlane = &v
	}
	workloads, err := clusteraudit.Collect(ctx, client, clusteraudit.Options{Namespace: *namespace})
	if err != nil {
		return fail("API server %s: %v", cfg.Host, err)
	}

	var evidence engine.EvidenceSource = sdkdetect.TagOnly{}
	var evidenceContext evidenceContextFunc
	if *useRegistry {
		src := newRegistrySource(&tgConfig.Registry, insecure, *registryTimeout, catalog, slog.New(slog.DiscardHandler), nil)
		defer src.Close()
		evidence = src
		if *usePullSecrets {
			hook, stop := auditPullSecrets(ctx, client, stderr)
			defer stop()
			evidenceContext = hook
		}
	}
	clusteraudit.Judge(ctx, engine.New(catalog, evidence, controlPlane), workloads, evidenceContext)
	for i := range workloads {
		w := &workloads[i]
		pod := policy.PodSpec{}
		if len(w.ServiceAccounts) == 1 {
			pod.ServiceAccountName = w.ServiceAccounts[0]
		}
		if e := admission.ApplyExemptions(exempter, w.Namespace, &pod, w.Findings); e.Whole != "" || e.Images+e.Components > 0 {
			w.Verdict = policy.Worst(w.Findings)
		}
	}

	doc := buildAuditDoc(workloads, *namespace)
	if subjects != nil || len(staleFiles) > 0 {
		st := clusteraudit.JoinStaleTokens(subjects, workloads, *namespace)
		doc.StaleTokens = &st
	}
	if *preview != "" {
		denied := wouldBeDenied(workloads, *unknown == "deny")
		doc.WouldBeDenied = &denied
	}
	if *output == "json" {
		err = writeAuditJSON(stdout, doc)
	} else {
		err = writeAuditText(stdout, stderr, doc, *namespace)
	}
	if err != nil {
		return fail("writing output: %v", err)
	}
	if doc.report.AtOrAbove(threshold) || (doc.WouldBeDenied != nil && len(*doc.WouldBeDenied) > 0) {
		return exitFindings
	}
	return exitOK
}

// auditPullSecretsSync bounds how long audit waits for the pull secrets and
// service accounts to be read.
const auditPullSecretsSync = 60 * time.Second

// auditPullSecrets reads the cluster's pull secrets and service accounts for
// the registry lookups, as serve does with registry.pullSecrets. A cluster
// that refuses to list them is said on stderr at once, and the audit goes on
// with the local credentials only.
func auditPullSecrets(ctx context.Context, client *kube.Client, stderr io.Writer) (evidenceContextFunc, func()) {
	probe := metav1.ListOptions{Limit: 1, FieldSelector: "type=" + string(corev1.SecretTypeDockerConfigJson)}
	_, err := client.ListSecrets(ctx, "", probe)
	if err == nil {
		_, err = client.ListServiceAccounts(ctx, "", metav1.ListOptions{Limit: 1})
	}
	if err != nil {
		fmt.Fprintf(stderr, "tokenguard audit: warning: cannot read image pull secrets (%v); registry lookups use the local Docker credentials only, so private images may come out unknown. Grant list and watch on secrets and serviceaccounts, or drop --pull-secrets.\n", err)
		return nil, func() {}
	}
	log := slog.New(slog.DiscardHandler)
	hook, stop := pullSecretsHook(ctx, client, auditPullSecretsSync, log)
	return hook, stop
}

// auditRestConfig is --kubeconfig, else the default loading rules
// ($KUBECONFIG, ~/.kube/config), else the in-cluster config.
func auditRestConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("--kubeconfig %s: %w", kubeconfig, err)
		}
		return cfg, nil
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if clientcmd.IsEmptyConfig(err) {
		return nil, errors.New("no cluster to audit: no --kubeconfig, no $KUBECONFIG or ~/.kube/config, and not running in a pod (no in-cluster config)")
	}
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	return cfg, nil
}

// auditDoc is the `-o json` document of audit: the check contract plus
// per-result pod counts, the stale-token join and the preview.
type auditDoc struct {
	Results       []auditResult              `json:"results"`
	Summary       report.Summary             `json:"summary"`
	Namespace     string                     `json:"namespace,omitempty"`
	StaleTokens   *[]clusteraudit.StaleToken `json:"staleTokens,omitempty"`
	WouldBeDenied *[]deniedWorkload          `json:"wouldBeDenied,omitempty"`
	report        *report.Report
}

type auditResult struct {
	report.Result
	// Pods counts the workload's pods; EvaluatedPods are the ones whose
	// specs were judged (one per pod template).
	Pods            int      `json:"pods"`
	EvaluatedPods   []string `json:"evaluatedPods"`
	ServiceAccounts []string `json:"serviceAccounts"`
}

type deniedWorkload struct {
	Kind      string         `json:"kind"`
	Namespace string         `json:"namespace"`
	Name      string         `json:"name"`
	Verdict   policy.Verdict `json:"verdict"`
	Messages  []string       `json:"messages"`
}

func buildAuditDoc(ws []clusteraudit.Workload, namespace string) *auditDoc {
	rep := &report.Report{}
	for i := range ws {
		w := &ws[i]
		rep.Results = append(rep.Results, report.Result{
			Kind: w.Kind, Namespace: w.Namespace, Name: w.Name, Verdict: w.Verdict, Findings: w.Findings,
		})
	}
	rep.Finish()
	byKey := map[string]*clusteraudit.Workload{}
	for i := range ws {
		byKey[ws[i].Kind+"/"+ws[i].Namespace+"/"+ws[i].Name] = &ws[i]
	}
	doc := &auditDoc{Results: []auditResult{}, Summary: rep.Summary, Namespace: namespace, report: rep}
	for _, r := range rep.Results {
		w := byKey[r.Kind+"/"+r.Namespace+"/"+r.Name]
		doc.Results = append(doc.Results, auditResult{Result: r, Pods: len(w.Pods), EvaluatedPods: w.Evaluated, ServiceAccounts: w.ServiceAccounts})
	}
	return doc
}

// wouldBeDenied lists the workloads enforce would deny: too-old, and
// unknown when the configuration says unknown: deny.
func wouldBeDenied(ws []clusteraudit.Workload, denyUnknown bool) []deniedWorkload {
	out := []deniedWorkload{}
	for i := range ws {
		w := &ws[i]
		if w.Verdict != policy.VerdictTooOld && (w.Verdict != policy.VerdictUnknown || !denyUnknown) {
			continue
		}
		d := deniedWorkload{Kind: w.Kind, Namespace: w.Namespace, Name: w.Name, Verdict: w.Verdict, Messages: []string{}}
		for _, f := range w.Findings {
			if f.Exempt == "" && (f.Verdict == policy.VerdictTooOld || (denyUnknown && f.Verdict == policy.VerdictUnknown)) {
				d.Messages = append(d.Messages, f.Message)
			}
		}
		out = append(out, d)
	}
	return out
}

func writeAuditJSON(w io.Writer, doc *auditDoc) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

func writeAuditText(w, errw io.Writer, doc *auditDoc, namespace string) error {
	if err := report.WriteText(w, errw, doc.report); err != nil {
		return err
	}
	if doc.StaleTokens != nil {
		fmt.Fprintln(w, "\nStale tokens (from the audit logs), most urgent first:")
		if len(*doc.StaleTokens) == 0 {
			fmt.Fprintln(w, "  none")
		}
		for _, s := range *doc.StaleTokens {
			fmt.Fprintf(w, "  %s: %s, %d day%s left\n", s.Subject, s.Status, s.DaysLeft, daysPlural(s.DaysLeft))
			if len(s.Workloads) == 0 {
				fmt.Fprintf(w, "    %s\n", clusteraudit.NoWorkloadFix)
			}
			for _, sw := range s.Workloads {
				fmt.Fprintf(w, "    %s/%s\n      now: %s\n      fix: %s\n", sw.Kind, sw.Name, sw.Restart, sw.RealFix)
			}
		}
	}
	if doc.WouldBeDenied != nil {
		scope := "every namespace were"
		if namespace != "" {
			scope = fmt.Sprintf("namespace %q were", namespace)
		}
		fmt.Fprintf(w, "\nPreview: if %s in enforce mode:\n", scope)
		if len(*doc.WouldBeDenied) == 0 {
			fmt.Fprintln(w, "  nothing would be denied")
		}
		for _, d := range *doc.WouldBeDenied {
			msg := strings.Join(d.Messages, "; ")
			msg = strings.ReplaceAll(msg, `would violate tokenguard`, `violates tokenguard`)
			fmt.Fprintf(w, "  would be denied: %s/%s -n %s: %s\n", d.Kind, d.Name, d.Namespace, msg)
		}
	}
	return nil
}

func daysPlural(n int64) string {
	if n == 1 || n == -1 {
		return ""
	}
	return "s"
}
