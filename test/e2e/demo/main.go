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
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

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
	say("== Starting tokenguard serve and registering deploy/base/validatingwebhookconfiguration.yaml")
	wh, err := e2e.StartWebhook(ctx, c, tokenguard, work)
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
