package charts

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/tokenguard/tokenguard/deploy/safety"
	"github.com/tokenguard/tokenguard/pkg/config"
)

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// valuesFile writes values (YAML) to a file for -f.
func valuesFile(t *testing.T, values string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(p, []byte(values), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSchemaRejects: values.schema.json (or, for what a schema cannot
// say, the templates) refuse bad values before anything reaches a
// cluster, with a message that names the value.
func TestSchemaRejects(t *testing.T) {
	h := helm(t)
	tests := []struct {
		name   string
		values string
		want   []string // all in the error
	}{
		{"unknown mode", "mode: bogus", []string{"at '/mode'", "'warn', 'enforce'"}},
		{"audit is no cluster default", "mode: audit", []string{"at '/mode'"}},
		{"negative replicas", "replicas: -1", []string{"at '/replicas'", "minimum"}},
		{"a single replica", "replicas: 1", []string{"at '/replicas'", "want 2"}},
		{"replicas as a string", `replicas: "3"`, []string{"at '/replicas'", "want integer"}},
		{"a misspelt key", "replica: 3", []string{"additional properties 'replica' not allowed"}},
		{"timeout above the API server's patience", "webhook: {timeoutSeconds: 30}", []string{"at '/webhook/timeoutSeconds'", "maximum"}},
		{"timeout below the evidence budget", "webhook: {timeoutSeconds: 1}", []string{"at '/webhook/timeoutSeconds'", "minimum"}},
		{"unknown config field", "config: {unknwon: deny}", []string{"at '/config'", "'unknwon' not allowed"}},
		{"config.unknown", "config: {unknown: maybe}", []string{"at '/config/unknown'", "'allow', 'warn', 'deny'"}},
		{"apiVersion inside config", "config: {apiVersion: tokenguard.io/v1alpha1}", []string{"at '/config'", "'apiVersion' not allowed"}},
		{"an unquoted version", "config: {catalog: {minimums: {coredns: 1.10}}}", []string{"at '/config/catalog/minimums/coredns'", "want string"}},
		{"registry timeout without a unit", "config: {registry: {timeout: 2}}", []string{"at '/config/registry/timeout'"}},
		{"cache size that is no quantity", "config: {registry: {cacheBytes: lots}}", []string{"at '/config/registry/cacheBytes'"}},
		{"layer mode", "config: {registry: {layers: {mode: sometimes}}}", []string{"at '/config/registry/layers/mode'"}},
		{"GOMEMLIMIT in the wrong unit", "goMemLimit: 230Mi", []string{"at '/goMemLimit'"}},
		{"no memory limit", "resources: {limits: {memory: null, cpu: 1}}", []string{"at '/resources/limits'", "memory"}},
		{"GOMEMLIMIT cannot be derived", "resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 256M}}", []string{"set goMemLimit"}},
		{"an argument that is no flag", "extraArgs: [debug]", []string{"at '/extraArgs/0'"}},
		{"issuer kind", "certManager: {enabled: true, issuerRef: {name: ca, kind: Vault}}", []string{"at '/certManager/issuerRef/kind'"}},
		{"issuer without a name", "certManager: {enabled: true, issuerRef: {kind: ClusterIssuer}}", []string{"at '/certManager/issuerRef'", "name"}},
		{"certificate validity", "selfSigned: {validityDays: 0}", []string{"at '/selfSigned/validityDays'"}},
		{"bad namespace name", "webhook: {enforcePodsExclude: [Kube_Public]}", []string{"at '/webhook/enforcePodsExclude/0'"}},
		{"controller replicas", "controller: {enabled: true, replicas: 0}", []string{"at '/controller/replicas'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := h.Template(release, namespace, "-f", valuesFile(t, tt.values))
			if err == nil {
				t.Fatalf("helm template accepted %s", tt.values)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestSchemaAcceptsEveryConfigField: docs/tokenguard-config.example.yaml,
// which holds every field of the configuration, passes the schema as the
// config value, and the chart renders it into a ConfigMap that tokenguard
// reads back to the same configuration: the schema is no stricter than
// tokenguard, and the chart loses nothing on the way.
func TestSchemaAcceptsEveryConfigField(t *testing.T) {
	h := helm(t)
	example, err := os.ReadFile(filepath.Join(RepoRoot(), "docs", "tokenguard-config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := yaml.Unmarshal(example, &fields); err != nil {
		t.Fatal(err)
	}
	delete(fields, "apiVersion")
	delete(fields, "kind")
	values, err := yaml.Marshal(map[string]any{"config": fields})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := h.Template(release, namespace, "-f", valuesFile(t, string(values)))
	if err != nil {
		t.Fatal(err)
	}
	got := checkConfig(t, objs)
	want, err := config.Parse(example, "docs/tokenguard-config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got != nil && !reflect.DeepEqual(got, want) {
		t.Errorf("the chart's configuration differs from the example's:\n got %+v\nwant %+v", got, want)
	}
}

// TestSelfSignedCertificate: without cert-manager, the Secret holds a
// serving certificate for the Service's DNS names, signed by the CA that
// every webhook entry trusts, valid selfSigned.validityDays, with the
// annotation tokenguard.io/not-after that upgrades renew by.
func TestSelfSignedCertificate(t *testing.T) {
	h := helm(t)
	const days = 90
	objs, err := h.Template("tg", "security", "--set", "selfSigned.validityDays=90")
	if err != nil {
		t.Fatal(err)
	}
	secret := safety.Find[corev1.Secret](t, objs, "Secret", "tg-tokenguard-tls")
	if secret.Type != corev1.SecretTypeTLS {
		t.Errorf("Secret type %s", secret.Type)
	}
	vwc := safety.Find[admissionregistrationv1.ValidatingWebhookConfiguration](t, objs, "ValidatingWebhookConfiguration", "tg-tokenguard")
	for _, w := range vwc.Webhooks {
		if string(w.ClientConfig.CABundle) != string(secret.Data["ca.crt"]) {
			t.Errorf("%s trusts another CA than the Secret's ca.crt", w.Name)
		}
	}
	ca := parseCert(t, secret.Data["ca.crt"])
	leaf := parseCert(t, secret.Data["tls.crt"])
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	for _, name := range []string{"tg-tokenguard.security.svc", "tg-tokenguard.security.svc.cluster.local"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("the serving certificate is not valid for %s under the CA: %v", name, err)
		}
	}
	if block, _ := pem.Decode(secret.Data["tls.key"]); block == nil {
		t.Error("tls.key holds no PEM key")
	}
	if d := time.Until(leaf.NotAfter); d < (days-1)*24*time.Hour || d > (days+1)*24*time.Hour {
		t.Errorf("the certificate expires in %v, want %d days", d.Round(time.Hour), days)
	}
	notAfter, err := time.Parse(time.RFC3339, secret.Annotations["tokenguard.io/not-after"])
	if err != nil {
		t.Fatalf("annotation tokenguard.io/not-after: %v", err)
	}
	if d := notAfter.Sub(leaf.NotAfter); d < -time.Hour || d > time.Hour {
		t.Errorf("tokenguard.io/not-after %s, the certificate's %s", notAfter, leaf.NotAfter)
	}
}

func parseCert(t *testing.T, data []byte) *x509.Certificate {
	t.Helper()
	// Secret data decodes from base64 into PEM; a caBundle likewise.
	if dec, err := base64.StdEncoding.DecodeString(string(data)); err == nil {
		data = dec
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("no PEM certificate in %q", data)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
