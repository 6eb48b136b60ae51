package safety

// Install says what one rendering (a kustomize overlay with components, or
// the Helm chart with a values file) is expected to hold.
type Install struct {
	// Namespace is tokenguard's own namespace (tokenguard-system), which
	// the webhook never judges.
	Namespace string
	// Name is the webhook's Deployment, Service and ClusterRole
	// (tokenguard); the controller's objects are Name + "-controller".
	Name string
	// DefaultMode is the mode of namespaces without the tokenguard.io/mode
	// label: "warn" (the base) or "enforce" (overlays/enforce-default).
	DefaultMode string
	// WebhookNames are the entries of the ValidatingWebhookConfiguration,
	// in order.
	WebhookNames []string
	// CABundle: every entry carries a caBundle (certificates made at
	// install, not injected by cert-manager).
	CABundle bool
	// InjectCAFrom is the cert-manager.io/inject-ca-from annotation the
	// webhook configuration must carry ("" when not expected).
	InjectCAFrom string
	// Secret: the serving certificate's Secret is among the objects.
	Secret bool
	// NamespaceObject: the Namespace itself is among the objects (the
	// kustomize base makes it; Helm's release namespace usually comes from
	// helm install --create-namespace).
	NamespaceObject bool
}

// ControllerName is the name of the controller's Deployment, service
// account and ClusterRole.
func (in Install) ControllerName() string { return in.Name + "-controller" }

// LeaseName is the Lease `tokenguard controller` holds (fixed in the
// binary, whatever the objects are called).
const LeaseName = "tokenguard-controller"

// EphemeralContainers is the subresource through which `kubectl debug`
// adds containers to a Pod; the only subresource the webhook is sent.
const EphemeralContainers = "pods/ephemeralcontainers"
