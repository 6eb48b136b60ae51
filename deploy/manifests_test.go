package deploy

import (
	"testing"

	"github.com/tokenguard/tokenguard/deploy/safety"
)

func build(t *testing.T, overlay string) []map[string]any {
	t.Helper()
	objs, err := Build(t.TempDir(), overlay)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// install is what overlay is expected to hold; the assertions themselves
// are in deploy/safety, shared with the Helm chart's tests (charts/).
func install(overlay string) safety.Install {
	in := safety.Install{
		Namespace:       "tokenguard-system",
		Name:            "tokenguard",
		DefaultMode:     "warn",
		WebhookNames:    WebhookNames,
		NamespaceObject: true,
	}
	switch overlay {
	case "overlays/self-signed":
		in.CABundle, in.Secret = true, true
	case "overlays/cert-manager":
		in.InjectCAFrom = "tokenguard-system/tokenguard"
	case "overlays/enforce-default":
		in.DefaultMode = "enforce"
		in.InjectCAFrom = "tokenguard-system/tokenguard"
	}
	return in
}

// TestWebhookConfigurationSafety pins the properties of DESIGN.md and issue
// #6 in every overlay (safety.WebhookConfiguration).
func TestWebhookConfigurationSafety(t *testing.T) {
	for _, overlay := range Overlays {
		t.Run(overlay, func(t *testing.T) {
			safety.WebhookConfiguration(t, build(t, overlay), install(overlay))
		})
	}
}

// TestWebhookRulesCoverKinds holds the webhook configuration of every
// overlay against the one table of workload kinds
// (safety.WebhookRulesCoverKinds).
func TestWebhookRulesCoverKinds(t *testing.T) {
	for _, overlay := range Overlays {
		t.Run(overlay, func(t *testing.T) {
			safety.WebhookRulesCoverKinds(t, build(t, overlay), install(overlay))
		})
	}
}

// TestDeploymentSafety: replicas, priority, spread, restricted security
// context, probes, resources, shutdown timing and GOMEMLIMIT of the
// webhook in every overlay (safety.Deployment).
func TestDeploymentSafety(t *testing.T) {
	for _, overlay := range Overlays {
		t.Run(overlay, func(t *testing.T) {
			safety.Deployment(t, build(t, overlay), install(overlay))
		})
	}
}

// TestComponents builds each component onto every overlay, as an operator's
// overlay would add it, and checks what it is for; the overlay's own
// properties still hold with them.
func TestComponents(t *testing.T) {
	for _, overlay := range Overlays {
		objs, err := BuildWithComponents(t.TempDir(), overlay, Components...)
		if err != nil {
			t.Fatalf("%s with %v: %v", overlay, Components, err)
		}
		in := install(overlay)
		t.Run(overlay+"/registry-credentials", func(t *testing.T) {
			safety.RegistryCredentials(t, objs, in)
		})
		t.Run(overlay+"/audit-sink", func(t *testing.T) {
			safety.AuditSink(t, objs, in)
		})
		t.Run(overlay+"/monitoring", func(t *testing.T) {
			safety.Monitoring(t, objs, in)
		})
		t.Run(overlay+"/safety", func(t *testing.T) {
			safety.WebhookConfiguration(t, objs, in)
			safety.Deployment(t, objs, in)
		})
	}
}

// TestRegistryCredentialsOptIn: without the component, the webhook reads
// no secrets.
func TestRegistryCredentialsOptIn(t *testing.T) {
	for _, overlay := range Overlays {
		t.Run(overlay, func(t *testing.T) {
			safety.NoRegistryCredentials(t, build(t, overlay), install(overlay))
		})
	}
}

// TestMonitoringObjectsDecodeStrictly decodes the monitoring component's
// objects into the Prometheus Operator's own Go types, rejecting unknown
// fields (safety.MonitoringDecodesStrictly).
func TestMonitoringObjectsDecodeStrictly(t *testing.T) {
	objs, err := BuildWithComponents(t.TempDir(), "overlays/self-signed", "components/monitoring")
	if err != nil {
		t.Fatal(err)
	}
	safety.MonitoringDecodesStrictly(t, objs)
}
