package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tokenguard/tokenguard/pkg/engine"
	"github.com/tokenguard/tokenguard/pkg/kube"
	"github.com/tokenguard/tokenguard/pkg/policy"
)

// discoverControlPlane asks the API server for its version, for the
// kube-proxy rule, retrying with backoff; without a kubeconfig or an
// in-cluster config it does nothing (kube-proxy stays unknown).
func discoverControlPlane(ctx context.Context, kubeconfig string, eng *engine.Engine, log *slog.Logger) {
	cfg, err := restConfig(kubeconfig)
	if err != nil {
		log.Warn("cannot discover the control-plane version; kube-proxy findings stay unknown (set controlPlaneVersion in the configuration)", "error", err.Error())
		return
	}
	if cfg == nil {
		return
	}
	cfg.Timeout = 5 * time.Second
	client, err := newKubeClient(cfg)
	if err != nil {
		log.Warn("cannot discover the control-plane version; kube-proxy findings stay unknown (set controlPlaneVersion in the configuration)", "error", err.Error())
		return
	}
	backoff := time.Second
	for {
		info, err := client.ServerVersion(ctx)
		if err == nil {
			v, perr := policy.ParseKubeVersion(info.GitVersion)
			if perr == nil {
				eng.SetControlPlane(&v)
				log.Info("discovered the control-plane version", "version", v.String(), "gitVersion", info.GitVersion)
				return
			}
			err = perr
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
