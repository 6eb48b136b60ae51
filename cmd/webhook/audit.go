package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tokenguard/tokenguard/pkg/awsid"
	"github.com/tokenguard/tokenguard/pkg/clusteraudit"
	"github.com/tokenguard/tokenguard/pkg/config"
	"github.com/tokenguard/tokenguard/pkg/engine"
	"github.com/tokenguard/tokenguard/pkg/kube"
	"github.com/tokenguard/tokenguard/pkg/policy"
	"github.com/tokenguard/tokenguard/pkg/sdkdetect/registry"
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
	registryTimeout := fs.Duration("registry-timeout", 30*time.Second, "with --registry: how long to wait for the registry lookups of one workload's images together")
	scanLayers := fs.Bool("scan-layers", false, "with --registry: when an image has no SBOM, read its SDK versions from its own files (layers stream from the registry, nothing is written to disk; budgets in the --config file's registry.layers); waits for each scan")
	var insecure, staleFiles, associations stringList
	fs.Var(&associations, "pod-identity-associations", "the JSON of `aws eks list-pod-identity-associations --cluster-name NAME`: pods of the service accounts it lists get EKS Pod Identity credentials, so their AWS SDKs must support it (repeatable)")
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
	case *scanLayers && !*useRegistry:
		return fail("--scan-layers reads layers from registries: add --registry")
	}
	if len(extra) > 0 {
		if len(staleFiles) == 0 {
			fmt.Fprintf(stderr, "tokenguard audit: unexpected argument %q (audit reads the cluster; files are only read with --stale-tokens)\n", extra[0])
			fs.Usage()
			return exitUsage
		}
		staleFiles = append(staleFiles, extra...)
	}
	cc, err := config.LoadCompiled(*configFile)
	if err == nil {
		err = cc.OverrideControlPlane(*clusterVersion)
	}
	if err != nil {
		return fail("%v", err)
	}
	if !explicit["unknown"] && *configFile != "" {
		*unknown = string(cc.Unknown)
	}
	if !explicit["pull-secrets"] {
		*usePullSecrets = *useRegistry && cc.Registry.PullSecrets
	}

	// Bad input first: read the files before reaching the cluster.
	dir, err := readAssociations(associations)
	if err != nil {
		return fail("%v", err)
	}
	var subjects []staletoken.Subject
	if len(staleFiles) > 0 {
		agg := staletoken.NewAggregator()
		failed := false
		for _, f := range staletoken.ReadPaths(agg, staleFiles, stdin) {
			if f.Error != "" {
				failed = true
				fmt.Fprintf(stderr, "tokenguard audit: --stale-tokens %s: %s\n", f.Source, f.Error)
			}
		}
		if failed {
			return exitUsage
		}
		subjects = agg.Result(staletoken.Policy{})
		if subjects == nil {
			subjects = []staletoken.Subject{}
		}
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
	if cc.ControlPlane == nil {
		if cc.ControlPlane, err = clusteraudit.ControlPlaneVersion(ctx, client); err != nil {
			return fail("API server %s: %v; check that it is reachable with this kubeconfig, or give --cluster-version", cfg.Host, err)
		}
	}
	workloads, err := clusteraudit.Collect(ctx, client, clusteraudit.Options{Namespace: *namespace})
	if err != nil {
		return fail("API server %s: %v", cfg.Host, err)
	}

	auditServiceAccounts(ctx, client, *namespace, dir, stderr)

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
		if *usePullSecrets {
			var stop func()
			o.credentials, stop = auditPullSecrets(ctx, cfg, client, stderr)
			defer stop()
		}
		src := newRegistrySource(cc, o)
		defer src.Close()
		evidence = src
	}
	clusteraudit.Judge(ctx, newEngine(cc, evidence, budget, dir), workloads)
	doc := clusteraudit.BuildReport(workloads, clusteraudit.ReportOptions{
		Namespace: *namespace, StaleTokens: subjects, Preview: *preview != "", Unknown: config.UnknownAction(*unknown),
	})
	if *output == "json" {
		err = doc.WriteJSON(stdout)
	} else {
		err = doc.WriteText(stdout, stderr)
	}
	if err != nil {
		return fail("writing output: %v", err)
	}
	if doc.AtOrAbove(threshold) {
		return exitFindings
	}
	return exitOK
}

// auditServiceAccounts reads the service accounts of namespace ("" is all)
// into dir: their eks.amazonaws.com/role-arn annotation says which
// workloads use IRSA, once restarted if not yet. A cluster that refuses to
// list them is said on stderr, and the audit goes on with what the pods
// show.
func auditServiceAccounts(ctx context.Context, client *kube.Client, namespace string, dir *awsid.Directory, stderr io.Writer) {
	opts := metav1.ListOptions{Limit: 500}
	for {
		l, err := client.ListServiceAccounts(ctx, namespace, opts)
		if err != nil {
			fmt.Fprintf(stderr, "tokenguard audit: warning: cannot list service accounts (%v); IRSA is judged only where the pods' environment shows it. Grant list on serviceaccounts to judge workloads as they will run.\n", err)
			return
		}
		for i := range l.Items {
			sa := &l.Items[i]
			dir.AddServiceAccount(sa.Namespace, sa.Name, sa.Annotations)
		}
		if l.Continue == "" {
			return
		}
		opts.Continue = l.Continue
	}
}

// auditPullSecretsSync bounds how long audit waits for the pull secrets and
// service accounts to be read.
const auditPullSecretsSync = 60 * time.Second

// auditPullSecrets reads the cluster's pull secrets and service accounts for
// the registry lookups, as serve does with registry.pullSecrets. A cluster
// that refuses to list them is said on stderr at once, and the audit goes on
// with the local credentials only.
func auditPullSecrets(ctx context.Context, cfg *rest.Config, client *kube.Client, stderr io.Writer) (registry.Credentials, func()) {
	probe := metav1.ListOptions{Limit: 1, FieldSelector: "type=" + string(corev1.SecretTypeDockerConfigJson)}
	_, err := client.ListSecrets(ctx, "", probe)
	if err == nil {
		_, err = client.ListServiceAccounts(ctx, "", metav1.ListOptions{Limit: 1})
	}
	if err == nil {
		// Informers watch: their client has no request timeout.
		watchCfg := rest.CopyConfig(cfg)
		watchCfg.Timeout = 0
		client, err = newKubeClient(watchCfg)
	}
	if err != nil {
		fmt.Fprintf(stderr, "tokenguard audit: warning: cannot read image pull secrets (%v); registry lookups use the local Docker credentials only, so private images may come out unknown. Grant list and watch on secrets and serviceaccounts, or drop --pull-secrets.\n", err)
		return nil, func() {}
	}
	ps, stop := startPullSecrets(ctx, client, auditPullSecretsSync, slog.New(slog.DiscardHandler))
	return ps.Keychain, stop
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
