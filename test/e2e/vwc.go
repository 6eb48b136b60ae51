package e2e

import (
	"fmt"
	"os"
	"path/filepath"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/yaml"
)

// shippedWebhookConfiguration reads the ValidatingWebhookConfiguration of
// deploy/ and points every entry at a URL on 127.0.0.1 instead of the
// in-cluster Service: what is tested is what is shipped.
func shippedWebhookConfiguration(baseURL string, caBundle []byte) (*admissionregistrationv1.ValidatingWebhookConfiguration, error) {
	path := filepath.Join(repoRoot(), "deploy", "base", "validatingwebhookconfiguration.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var vwc admissionregistrationv1.ValidatingWebhookConfiguration
	if err := yaml.UnmarshalStrict(data, &vwc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i := range vwc.Webhooks {
		cc := &vwc.Webhooks[i].ClientConfig
		if cc.Service == nil || cc.Service.Path == nil {
			return nil, fmt.Errorf("%s: webhooks[%d] has no service path", path, i)
		}
		url := baseURL + *cc.Service.Path
		cc.URL, cc.Service, cc.CABundle = &url, nil, caBundle
	}
	return &vwc, nil
}
