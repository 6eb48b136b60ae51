package policy

import "strings"

// Verdict is the outcome of one finding or of a whole workload.
type Verdict string

const (
	// VerdictOK means the component meets its minimum version.
	VerdictOK Verdict = "ok"
	// VerdictTooOld means the component is below its minimum, or the pod
	// spec itself breaks a token rule.
	VerdictTooOld Verdict = "too-old"
	// VerdictUnknown means the version could not be determined, or sits in
	// an ambiguous range.
	VerdictUnknown Verdict = "unknown"
	// VerdictNotApplicable means the rule does not apply (e.g. no token is
	// mounted into the container).
	VerdictNotApplicable Verdict = "not-applicable"
)

// Rank orders verdicts for "worst of": too-old > unknown > ok > not-applicable.
func (v Verdict) Rank() int {
	switch v {
	case VerdictTooOld:
		return 3
	case VerdictUnknown:
		return 2
	case VerdictOK:
		return 1
	default:
		return 0
	}
}

// ImageRef is a parsed container image reference. Registry is normalised
// ("docker.io" for Docker Hub), Repository is the path without the registry
// ("library/nginx", "eks/coredns"), Tag and Digest are empty when absent.
type ImageRef struct {
	Original   string
	Registry   string
	Repository string
	Tag        string
	Digest     string
}

// PodSpec is the part of a Kubernetes pod spec that token rules read. It is
// built from corev1.PodSpec (or a faster decoder) by the caller.
type PodSpec struct {
	// AutomountServiceAccountToken mirrors the pod field; nil means the
	// default (mount).
	AutomountServiceAccountToken *bool
	ServiceAccountName           string
	// ImagePullSecrets are the names of the pod's image pull secrets, for
	// registry credentials; nil when there are none.
	ImagePullSecrets []string
	Containers       []Container
	Volumes          []Volume
	// AWS is what is known of the pod's AWS credentials from outside its
	// spec (its service account, a Pod Identity association, its
	// annotations); the zero value knows nothing.
	AWS AWSContext
}

// AWSContext is what the caller knows of a pod's AWS credentials beyond
// its spec. A pod template has not met the mutating webhooks yet, so its
// containers show no IRSA or Pod Identity variables; the service
// account's eks.amazonaws.com/role-arn annotation (IRSA) or a Pod Identity
// association for it says they will.
type AWSContext struct {
	// Mechanisms every container of the pod will use.
	Mechanisms AWSMechanism
	// TokenExpiration is the eks.amazonaws.com/token-expiration
	// annotation's value (seconds) that sets IRSA's token lifetime, from
	// the pod (template), else its service account; "" when unset.
	TokenExpiration string
	// TokenExpirationFrom names where TokenExpiration was read
	// ("pod annotation", `service account "app"`).
	TokenExpirationFrom string
	// SkipContainers is the pod's eks.amazonaws.com/skip-containers
	// annotation: the containers (comma-separated names) the IRSA webhook
	// leaves alone, so that Mechanisms' IRSA does not reach them.
	SkipContainers string
}

// containerMechanisms are the Mechanisms that reach container name: all
// but IRSA for a container the IRSA webhook skips.
func (a *AWSContext) containerMechanisms(name string) AWSMechanism {
	if a.Mechanisms.Has(AWSIRSA) && a.skipsContainer(name) {
		return a.Mechanisms &^ AWSIRSA
	}
	return a.Mechanisms
}

// skipsContainer reports whether the IRSA webhook leaves container name
// alone (eks.amazonaws.com/skip-containers).
func (a *AWSContext) skipsContainer(name string) bool {
	for s := a.SkipContainers; s != ""; {
		var item string
		item, s, _ = strings.Cut(s, ",")
		if strings.TrimSpace(item) == name {
			return true
		}
	}
	return false
}

// ContainerKind tells regular, init and ephemeral containers apart.
type ContainerKind uint8

const (
	ContainerRegular ContainerKind = iota
	ContainerInit
	ContainerEphemeral
)

// Container is one container of a pod spec.
type Container struct {
	Name         string
	Image        string
	Kind         ContainerKind
	VolumeMounts []VolumeMount
	// Env holds the container's environment variables whose names start
	// with "AWS_" (IRSA's AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE, EKS
	// Pod Identity's AWS_CONTAINER_CREDENTIALS_FULL_URI and
	// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, AWS_REGION ...), in spec
	// order; nil when there are none.
	Env []EnvVar
}

// EnvVar is a container environment variable. Value is empty when the
// variable is set from a source (valueFrom) rather than a literal value.
type EnvVar struct {
	Name  string
	Value string
}

// VolumeMount names a pod volume mounted into a container.
type VolumeMount struct {
	Name      string
	MountPath string
}

// Volume is a pod volume, reduced to what matters for tokens.
type Volume struct {
	Name string
	// ServiceAccountToken is set when a projected volume holds a
	// serviceAccountToken source.
	ServiceAccountToken *ProjectedToken
	// SecretName is set for a secret volume.
	SecretName string
}

// ProjectedToken is a projected serviceAccountToken source.
type ProjectedToken struct {
	Path              string
	Audience          string
	ExpirationSeconds *int64
}
