// Command demo shows tokenguard behind a real kube-apiserver on 127.0.0.1:
// it starts etcd, kube-apiserver and kube-controller-manager, runs
// `tokenguard serve`, registers the ValidatingWebhookConfiguration of
// deploy/, labels namespaces with modes, applies examples/ and prints what
// an operator sees — warnings and denials — then shuts everything down.
//
//	go run ./test/e2e/demo -tokenguard bin/tokenguard   (make demo)
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/tokenguard/tokenguard/deploy/crds"
	"github.com/tokenguard/tokenguard/test/e2e"
	"github.com/tokenguard/tokenguard/test/e2e/cluster"
)

// modes labels the examples' namespaces, one of each mode.
var modes = map[string]string{
	"kube-system":       "enforce",
	"shop":              "enforce",
	"security":          "enforce",
	"amazon-cloudwatch": "warn",
	"reports":           "audit",
	"web":               "", // unlabelled: the cluster default, warn
}

func main() {
	tokenguard := flag.String("tokenguard", "bin/tokenguard", "the tokenguard binary to run")
	examples := flag.String("examples", "examples", "manifests to apply")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *tokenguard, *examples); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, tokenguard, examples string) error {
	work, err := os.MkdirTemp("", "tokenguard-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	say("== Building or reusing the control-plane binaries (a first build takes several minutes)")
	binDir, err := cluster.BinDir(os.Stdout)
	if err != nil {
		return err
	}
	say("== Starting etcd, kube-apiserver and kube-controller-manager on 127.0.0.1")
	c, err := cluster.Start(ctx, cluster.Options{BinDir: binDir, WorkDir: work, Log: io.Discard, ControllerManager: true})
	if err != nil {
		return err
	}
	defer func() {
		say("== Stopping the control plane")
		_ = c.Stop()
	}()
	say("== Starting a registry on 127.0.0.1 with two application images that carry no SBOM")
	reg := e2e.StartRegistry()
	defer reg.Close()
	apps, err := pushApps(reg, work)
	if err != nil {
		return err
	}
	config := filepath.Join(work, "tokenguard.yaml")
	if err := os.WriteFile(config, []byte(fmt.Sprintf("apiVersion: tokenguard.io/v1alpha1\nkind: TokenGuardConfiguration\n"+
		"registry:\n  enabled: true\n  registries: [%q]\n  insecureRegistries: [%q]\n  layers: {mode: auto}\n", reg.Host, reg.Host)), 0o644); err != nil {
		return err
	}
	say("== Starting tokenguard serve (registry lookups and layer scanning on, for that registry) and registering deploy/base/validatingwebhookconfiguration.yaml")
	wh, err := e2e.StartWebhook(ctx, c, tokenguard, work, "--config", config)
	if err != nil {
		return err
	}
	defer func() {
		say("== Stopping tokenguard")
		wh.Stop()
	}()

	warnings := &recorder{}
	cfg := rest.CopyConfig(c.Config)
	cfg.WarningHandler = warnings
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))

	if info, err := kubernetes.NewForConfigOrDie(c.Config).Discovery().ServerVersion(); err == nil {
		fmt.Printf("   control plane %s: kube-proxy is judged against it (version-skew policy)\n", info.GitVersion)
	}
	say("== Labelling namespaces with tokenguard.io/mode")
	names := make([]string, 0, len(modes))
	for ns := range modes {
		names = append(names, ns)
	}
	sort.Strings(names)
	for _, ns := range names {
		if err := e2e.LabelNamespace(ctx, client, ns, modes[ns]); err != nil {
			return err
		}
		mode := modes[ns]
		if mode == "" {
			mode = "(unlabelled: cluster default warn)"
		}
		fmt.Printf("   %-18s %s\n", ns, mode)
	}

	say("== Applying " + examples + "/ (what kubectl apply would print, plus the webhook's words)")
	files, err := filepath.Glob(filepath.Join(examples, "*.yaml"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	counts := map[string]int{}
	for _, f := range files {
		fmt.Printf("\n-- %s\n", f)
		if err := apply(ctx, f, dyn, mapper, warnings, counts); err != nil {
			return err
		}
	}
	say("== Waiting for the controller manager to create pods (they pass through the webhook too; DaemonSets need nodes, and none run here)")
	time.Sleep(3 * time.Second)
	pods, err := client.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err == nil {
		byNS := map[string]int{}
		for _, p := range pods.Items {
			byNS[p.Namespace]++
		}
		for _, ns := range names {
			fmt.Printf("   %-18s %d pods created\n", ns, byNS[ns])
		}
	}
	if err := layerScanning(ctx, client, warnings, apps, counts); err != nil {
		return err
	}
	if err := awsCredentials(ctx, client, apps[2], counts); err != nil {
		return err
	}
	if err := reportsStep(ctx, c, tokenguard, config, work); err != nil {
		return err
	}
	say(fmt.Sprintf("== Summary: %d created, %d created with warnings, %d denied, %d other errors",
		counts["created"], counts["warned"], counts["denied"], counts["error"]))
	fmt.Println("   Decisions counted by tokenguard (/metrics):")
	for _, line := range strings.Split(wh.Metrics(), "\n") {
		if strings.HasPrefix(line, "tokenguard_admission_decisions_total{") {
			fmt.Println("   " + line)
		}
	}
	return nil
}

// app is an application image of the demo's registry.
type app struct {
	name, image, holds string
}

// pushApps pushes the application images: a Node service with an old
// @kubernetes/client-node in node_modules, an operator binary linked with
// the project's own client-go, and a Node uploader whose aws-sdk is too
// old for EKS Pod Identity.
func pushApps(reg *e2e.Registry, work string) ([]app, error) {
	base := map[string]string{"etc/os-release": "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n"}
	// nodeApp is a Node service requiring pkg, with version installed.
	nodeApp := func(repo, name, version, pkg, installed string) (string, error) {
		return reg.PushFiles(repo, version, base, map[string]string{
			"app/package.json": `{"name":"` + name + `","version":"` + version + `","dependencies":{"` + pkg + `":"*"}}`,
			"app/index.js":     "require('" + pkg + "')\n",
			"app/node_modules/" + pkg + "/package.json": `{"name":"` + pkg + `","version":"` + installed + `","main":"index.js"}`,
		})
	}
	orders, err := nodeApp("shop/orders", "orders", "2.4.1", "@kubernetes/client-node", "0.10.2")
	if err != nil {
		return nil, err
	}
	bin, err := e2e.BuildOperator(work)
	if err != nil {
		return nil, err
	}
	operator, err := reg.PushFiles("platform/operator", "1.0", base, map[string]string{"manager": string(bin)})
	if err != nil {
		return nil, err
	}
	uploader, err := nodeApp("shop/uploader", "uploader", "3.0", "aws-sdk", "2.1549.0")
	if err != nil {
		return nil, err
	}
	apps := []app{
		{"orders", orders, "node_modules holds @kubernetes/client-node 0.10.2 (the minimum is 0.10.3)"},
		{"operator", operator, "a Go binary linked with k8s.io/client-go v0.37.2"},
		{"uploader", uploader, "node_modules holds aws-sdk 2.1549.0 (EKS Pod Identity needs 2.1550.0) and no Kubernetes client"},
	}
	for _, a := range apps {
		fmt.Printf("   %-48s %s\n", a.image, a.holds)
	}
	return apps, nil
}

// layerScanning creates a Deployment of each application image in the
// enforce namespace shop. The first review of an image starts the scan of
// its files; a dry-run pod shows when its result is in.
func layerScanning(ctx context.Context, client kubernetes.Interface, warnings *recorder, apps []app, counts map[string]int) error {
	say("== Layer scanning: images without an SBOM are judged by their own files (shop is enforce)")
	for _, a := range apps {
		probe := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: a.name + "-probe"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: a.name, Image: a.image}}}}
		for i := 0; i < 100; i++ {
			warnings.take()
			_, err := client.CoreV1().Pods("shop").Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			if i == 0 {
				fmt.Printf("   first look at %s: %s\n", a.name, firstLook(err, warnings.take()))
			}
			if err == nil || !strings.Contains(err.Error(), "under way") && !strings.Contains(strings.Join(warnings.take(), " "), "under way") {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		labels := map[string]string{"app": a.name}
		d := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: a.name},
			Spec: appsv1.DeploymentSpec{
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: a.name, Image: a.image}}},
				},
			},
		}
		warnings.take()
		_, err := client.AppsV1().Deployments("shop").Create(ctx, d, metav1.CreateOptions{})
		outcome("shop Deployment/"+a.name, err, counts)
	}
	return nil
}

// awsCredentials creates a pod of the uploader image in shop as the EKS
// Pod Identity webhook leaves it (the agent's URI and token file in its
// environment): its aws-sdk is too old for that, though it passed as a
// Deployment without AWS credentials.
func awsCredentials(ctx context.Context, client kubernetes.Interface, a app, counts map[string]int) error {
	say("== AWS credentials: the same uploader image, now with EKS Pod Identity (shop is enforce)")
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: a.name + "-pod-identity"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: a.name, Image: a.image,
		Env: []corev1.EnvVar{
			{Name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", Value: "http://169.254.170.23/v1/credentials"},
			{Name: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", Value: "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"},
		},
	}}}}
	_, err := client.CoreV1().Pods("shop").Create(ctx, p, metav1.CreateOptions{})
	what := "shop Pod/" + p.Name
	outcome(what, err, counts)
	return nil
}

// outcome prints and counts what the API server answered a create with.
func outcome(what string, err error, counts map[string]int) {
	switch {
	case err == nil:
		counts["created"]++
		fmt.Printf("   %-45s created\n", what)
	case apierrors.IsForbidden(err) && strings.Contains(err.Error(), "tokenguard"):
		counts["denied"]++
		fmt.Printf("   %-45s DENIED\n      Error from server (Forbidden): %s\n", what, err)
	default:
		counts["error"]++
		fmt.Printf("   %-45s error: %v\n", what, err)
	}
}

// firstLook says what the first review of an image answered.
func firstLook(err error, warnings []string) string {
	text := strings.Join(warnings, " ")
	if err != nil {
		text = err.Error()
	}
	if strings.Contains(text, "under way") {
		return "unknown, the scan of its files is under way (unknown: allow admits it meanwhile)"
	}
	if err != nil {
		return "denied"
	}
	return "answered at once (the scan ended within the review's budget)"
}

// apply creates every object of a manifest file and prints the outcome.
func apply(ctx context.Context, file string, dyn dynamic.Interface, mapper *restmapper.DeferredDiscoveryRESTMapper, warnings *recorder, counts map[string]int) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var obj unstructured.Unstructured
		if err := dec.Decode(&obj.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("%s: %w", file, err)
		}
		if len(obj.Object) == 0 {
			continue
		}
		gvk := obj.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", file, gvk, err)
		}
		what := fmt.Sprintf("%s/%s", obj.GetKind(), obj.GetName())
		if ns := obj.GetNamespace(); ns != "" {
			what = ns + " " + what
		}
		warnings.take()
		_, err = dyn.Resource(m.Resource).Namespace(obj.GetNamespace()).Create(ctx, &obj, metav1.CreateOptions{})
		ws := warnings.take()
		switch {
		case err == nil && len(ws) > 0:
			counts["warned"]++
			fmt.Printf("   %-45s created, with %d warning(s):\n", what, len(ws))
			for _, w := range ws {
				fmt.Printf("      Warning: %s\n", w)
			}
		case err == nil:
			counts["created"]++
			fmt.Printf("   %-45s created\n", what)
		case apierrors.IsForbidden(err) && strings.Contains(err.Error(), "tokenguard"):
			counts["denied"]++
			fmt.Printf("   %-45s DENIED\n      Error from server (Forbidden): %s\n", what, err)
		case apierrors.IsAlreadyExists(err):
			fmt.Printf("   %-45s exists already\n", what)
		default:
			counts["error"]++
			fmt.Printf("   %-45s error: %v\n", what, err)
		}
	}
}

type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) HandleWarningHeader(_ int, _ string, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, text)
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.msgs
	r.msgs = nil
	return m
}

func say(s string) { fmt.Printf("\n%s\n", s) }

// reportsStep installs the OpenReports CRD, runs `tokenguard controller`
// until its reports are written, and prints them as `kubectl get reports
// -A` does.
func reportsStep(ctx context.Context, c *cluster.Cluster, tokenguard, config, work string) error {
	say("== The cluster's picture: tokenguard controller writes a report per running workload (OpenReports)")
	crd, err := cluster.ReadModuleFile("github.com/openreports/reports-api", "config/crd/openreports.io_reports.yaml")
	if err != nil {
		return err
	}
	if err := c.InstallCRD(ctx, crd); err != nil {
		return err
	}
	// Shared registry evidence (deploy/crds): the controller writes what it
	// finds of the images that run.
	if err := c.InstallCRD(ctx, crds.ImageEvidenceYAML); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, tokenguard, "controller", "--kubeconfig", c.Kubeconfig, "--config", config,
		"--lease-namespace", "default", "--identity", "demo", "--metrics-addr", "127.0.0.1:0", "--interval", "10s", "--log-format", "text")
	logFile, err := os.Create(filepath.Join(work, "controller.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	// Wait for the first pass: the count of reports stops growing.
	var table metav1.Table
	last, same := -1, 0
	for i := 0; i < 120 && same < 3; i++ {
		time.Sleep(500 * time.Millisecond)
		raw, err := cs.Discovery().RESTClient().Get().AbsPath("/apis/openreports.io/v1alpha1/reports").
			SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(ctx)
		if err != nil {
			continue
		}
		if err := json.Unmarshal(raw, &table); err != nil {
			return err
		}
		if n := len(table.Rows); n > 0 && n == last {
			same++
		} else {
			last, same = n, 0
		}
	}
	printTable(&table, "kubectl get reports -A", true)
	if len(table.Rows) == 0 {
		fmt.Printf("   no reports were written; the controller's log is in %s\n", logFile.Name())
	}
	// The registry evidence of the images that run, shared with every
	// webhook replica.
	raw, err := cs.Discovery().RESTClient().Get().AbsPath("/apis/tokenguard.io/v1alpha1/imageevidences").
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(ctx)
	if err != nil {
		return fmt.Errorf("listing imageevidences: %w", err)
	}
	var evidence metav1.Table
	if err := json.Unmarshal(raw, &evidence); err != nil {
		return err
	}
	printTable(&evidence, "kubectl get imageevidences", false)
	return nil
}

// printTable prints a server-side table as kubectl does (the columns of
// priority 0), with a NAMESPACE column for namespaced objects.
func printTable(table *metav1.Table, command string, namespaced bool) {
	fmt.Println("   $ " + command)
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 3, ' ', 0)
	fmt.Fprint(tw, "   ")
	if namespaced {
		fmt.Fprint(tw, "NAMESPACE\t")
	}
	first := true
	for _, col := range table.ColumnDefinitions {
		if col.Priority == 0 {
			if !first {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, strings.ToUpper(col.Name))
			first = false
		}
	}
	fmt.Fprintln(tw)
	for _, row := range table.Rows {
		var meta struct {
			Metadata metav1.ObjectMeta `json:"metadata"`
		}
		_ = json.Unmarshal(row.Object.Raw, &meta)
		fmt.Fprint(tw, "   ")
		if namespaced {
			fmt.Fprint(tw, meta.Metadata.Namespace+"\t")
		}
		first := true
		for i, cell := range row.Cells {
			if i < len(table.ColumnDefinitions) && table.ColumnDefinitions[i].Priority == 0 {
				if !first {
					fmt.Fprint(tw, "\t")
				}
				fmt.Fprintf(tw, "%v", cell)
				first = false
			}
		}
		fmt.Fprintln(tw)
	}
	_ = tw.Flush()
	fmt.Print(b.String())
}
