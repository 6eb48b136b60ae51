package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// TestAlertsUseExportedMetrics: every tokenguard metric the alerts of
// deploy/components/monitoring read is one the real binary exports, with
// the labels the alerts select on. A renamed metric would otherwise leave
// an alert that never fires. The binary runs with registry lookups on (a
// registry that refuses connections), receives reviews in enforce mode and
// a stale-token audit batch, so that every family has a sample.
func TestAlertsUseExportedMetrics(t *testing.T) {
	data, err := os.ReadFile("../../deploy/components/monitoring/prometheusrule.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var rule struct {
		Spec struct {
			Groups []struct {
				Rules []struct{ Alert, Expr string }
			}
		}
	}
	if err := yaml.Unmarshal(data, &rule); err != nil {
		t.Fatal(err)
	}
	// A port nothing listens on: lookups fail at once.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tokenguard.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("apiVersion: tokenguard.io/v1alpha1\nkind: TokenGuardConfiguration\n"+
		"registry:\n  enabled: true\n  timeout: 1s\n  registries: [%q]\n  insecureRegistries: [%q]\n", host, host)), 0o644); err != nil {
		t.Fatal(err)
	}
	auditAddr, token, auditArgs := auditFlags(t)
	s := startServe(t, append([]string{"--config", cfg}, auditArgs...)...)
	s.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	if code, r := s.review(t, "enforce", "pod-two-too-old"); code != 200 || r.Allowed {
		t.Fatalf("enforce review: %d %+v", code, r)
	}
	review := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"group":"","version":"v1","kind":"Pod"},` +
		`"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"prod","operation":"CREATE",` +
		`"object":{"metadata":{"name":"app","namespace":"prod"},"spec":{"containers":[{"name":"app","image":"` + host + `/acme/app:1.0"}]}}}}`
	resp, err := s.client.Post("https://"+s.Addr+"/validate/warn", "application/json", strings.NewReader(review))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("review of a registry image: %v %v", resp, err)
	}
	resp.Body.Close()
	batch := `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"kind":"Event","auditID":"x","annotations":` +
		`{"authentication.k8s.io/stale-token":"subject: system:serviceaccount:common:fluent-bit, seconds after warning threshold: 4185802."}}]}`
	if code := auditPost(t, s.client, auditAddr, token, batch); code != http.StatusOK {
		t.Fatalf("POST /audit: %d", code)
	}

	// The lookup may finish after the review's budget: wait for its sample.
	var metrics string
	deadline := time.Now().Add(10 * time.Second)
	for {
		metrics = s.MetricsText()
		if strings.Contains(metrics, "tokenguard_registry_lookup_duration_seconds_count") || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	families := map[string]string{} // name -> the text of its samples
	for line := range strings.SplitSeq(metrics, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		families[name] += line + "\n"
	}

	metricRE := regexp.MustCompile(`\b(tokenguard_[a-z_]+)(\{[^}]*\})?`)
	labelRE := regexp.MustCompile(`([a-z_]+)\s*(=~|!=|=)`)
	checked := 0
	for _, g := range rule.Spec.Groups {
		for _, r := range g.Rules {
			for _, m := range metricRE.FindAllStringSubmatch(r.Expr, -1) {
				name := m[1]
				samples, ok := families[name]
				if !ok {
					var have []string
					for n := range families {
						if strings.HasPrefix(n, "tokenguard_") {
							have = append(have, n)
						}
					}
					slices.Sort(have)
					t.Errorf("alert %s reads %s, which tokenguard does not export; it exports %v", r.Alert, name, have)
					continue
				}
				checked++
				for _, l := range labelRE.FindAllStringSubmatch(m[2], -1) {
					if l[1] == "job" {
						continue // set by Prometheus, not tokenguard
					}
					if !strings.Contains(samples, l[1]+`="`) {
						t.Errorf("alert %s selects %s on label %q, which its samples lack:\n%s", r.Alert, name, l[1], samples)
					}
				}
			}
		}
	}
	if checked < 6 {
		t.Errorf("only %d metric references checked", checked)
	}
}
