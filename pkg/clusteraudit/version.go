package clusteraudit

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/version"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// VersionClient asks the API server for its version (*kube.Client).
type VersionClient interface {
	ServerVersion(ctx context.Context) (*version.Info, error)
}

// ControlPlaneVersion asks the API server for its version, for the
// kube-proxy rule.
func ControlPlaneVersion(ctx context.Context, c VersionClient) (*policy.KubeVersion, error) {
	info, err := c.ServerVersion(ctx)
	if err != nil {
		return nil, err
	}
	v, err := policy.ParseKubeVersion(info.GitVersion)
	if err != nil {
		return nil, fmt.Errorf("the API server reports version %q: %w", info.GitVersion, err)
	}
	return &v, nil
}
