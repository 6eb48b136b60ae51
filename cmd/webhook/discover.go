package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tokenguard/tokenguard/pkg/clusteraudit"
	"github.com/tokenguard/tokenguard/pkg/engine"
	"github.com/tokenguard/tokenguard/pkg/kube"
)

// discoverControlPlane asks the API server for its version, for the
// kube-proxy rule, retrying with backoff; without a kubeconfig or an
// in-cluster config it does nothing (kube-proxy stays unknown).
func discoverControlPlane(ctx context.Context, kubeconfig string, eng *engine.Engine, log *slog.Logger) {
	client, err := clusterClient(kubeconfig, 5*time.Second)
	if errors.Is(err, errNoCluster) {
		return
	}
	if err != nil {
		log.Warn("cannot discover the control-plane version; kube-proxy findings stay unknown (set controlPlaneVersion in the configuration)", "error", err.Error())
		return
	}
	backoff := time.Second
	for {
		v, err := clusteraudit.ControlPlaneVersion(ctx, client)
		if err == nil {
			eng.SetControlPlane(v)
			log.Info("discovered the control-plane version", "version", v.String())
			return
		}
		log.Warn("control-plane version discovery failed; retrying", "error", err.Error(), "retryIn", backoff.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Minute)
	}
}

// restConfig returns the kubeconfig's config, the in-cluster config when
// running in a pod, or nil when there is neither.
func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		return clientcmd.BuildConfigFromFlags("", kubeconfig)
	}
	if os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		return rest.InClusterConfig()
	}
	return nil, nil
}

// newKubeClient is the API client of cfg (not modified), sending
// User-Agent tokenguard/<version> unless cfg sets one.
func newKubeClient(cfg *rest.Config) (*kube.Client, error) {
	if cfg.UserAgent == "" {
		cfg = rest.CopyConfig(cfg)
		cfg.UserAgent = "tokenguard/" + version
	}
	return kube.NewForConfig(cfg)
}

// clusterClient is the API client of the kubeconfig or the in-cluster
// config, with timeout per request; errNoCluster when there is neither.
func clusterClient(kubeconfig string, timeout time.Duration) (*kube.Client, error) {
	cfg, err := restConfig(kubeconfig)
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		return nil, errNoCluster
	}
	cfg.Timeout = timeout
	return newKubeClient(cfg)
}

type noClusterError struct{}

func (noClusterError) Error() string {
	return "no --kubeconfig and not running in a pod (no in-cluster config)"
}

var errNoCluster error = noClusterError{}
