package deploy

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/tokenguard/tokenguard/pkg/certs"
)

// Overlays are the kustomizations an operator applies.
var Overlays = []string{"overlays/cert-manager", "overlays/self-signed", "overlays/enforce-default"}

// WebhookNames are the entries of base/validatingwebhookconfiguration.yaml.
var WebhookNames = []string{
	"enforce-pods.tokenguard.io",
	"enforce-workloads.tokenguard.io",
	"enforce-kube-system-pods.tokenguard.io",
	"warn.tokenguard.io",
	"audit.tokenguard.io",
	"namespace-preview.tokenguard.io",
}

// Components are the kustomize components an operator may add to an
// overlay.
var Components = []string{"components/registry-credentials", "components/monitoring", "components/audit-sink"}

// Dir is this directory.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// Build copies deploy/ to a temporary directory, writes the certificates
// the self-signed overlay expects (as `tokenguard certs` would), and runs
// kustomize on overlay, returning the objects as YAML documents.
func Build(tmp, overlay string) ([]map[string]any, error) {
	root := filepath.Join(tmp, "deploy")
	if err := copyTree(Dir(), root); err != nil {
		return nil, err
	}
	b, err := certs.Generate(certs.ServiceSANs("tokenguard", "tokenguard-system"), time.Now(), 0)
	if err != nil {
		return nil, err
	}
	certDir := filepath.Join(root, "overlays", "self-signed", "certs")
	if err := certs.WriteFiles(certDir, b); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(certDir, "cabundle-patch.yaml"), []byte(certs.CABundlePatch("tokenguard", WebhookNames, b.CACertPEM)), 0o644); err != nil {
		return nil, err
	}
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(root, overlay))
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", overlay, err)
	}
	var out []map[string]any
	for _, r := range res.Resources() {
		m, err := r.Map()
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// BuildWithComponents builds overlay with components (paths under deploy/,
// as in Components) added, as an operator's own overlay would:
//
//	resources: [../<overlay>]
//	components: [../../components/<name>]
func BuildWithComponents(tmp, overlay string, components ...string) ([]map[string]any, error) {
	dir := filepath.Join(tmp, "deploy", "overlays", "with-components")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	k := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../" + filepath.Base(overlay) + "\ncomponents:\n"
	for _, c := range components {
		k += "- ../../" + c + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o644); err != nil {
		return nil, err
	}
	return Build(tmp, "overlays/with-components")
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if filepath.Ext(path) == ".go" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}
