package policy

import (
	"net/netip"
	"net/url"
)

// AWSMechanism is how a container gets AWS credentials from its pod's
// service-account token: IAM roles for service accounts (IRSA) or EKS Pod
// Identity. Both are token consumers, and both need an AWS SDK new enough
// to use them. A container may show both; the value is a set.
type AWSMechanism uint8

const (
	// AWSIRSA: AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE, or a
	// projected token with audience sts.amazonaws.com mounted.
	AWSIRSA AWSMechanism = 1 << iota
	// AWSPodIdentity: AWS_CONTAINER_CREDENTIALS_FULL_URI at the EKS Pod
	// Identity agent (169.254.170.23 or fd00:ec2::23) with
	// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, or a projected token with
	// audience pods.eks.amazonaws.com mounted.
	AWSPodIdentity
)

// Token audiences of the two mechanisms.
const (
	AudienceIRSA        = "sts.amazonaws.com"
	AudiencePodIdentity = "pods.eks.amazonaws.com"
)

// The EKS Pod Identity agent's addresses.
var podIdentityAgents = [...]netip.Addr{
	netip.AddrFrom4([4]byte{169, 254, 170, 23}),
	netip.MustParseAddr("fd00:ec2::23"),
}

// Has reports whether m includes o.
func (m AWSMechanism) Has(o AWSMechanism) bool { return m&o != 0 }

// String names the mechanisms: "irsa", "pod-identity", "irsa+pod-identity", "".
func (m AWSMechanism) String() string {
	switch m {
	case AWSIRSA:
		return "irsa"
	case AWSPodIdentity:
		return "pod-identity"
	case AWSIRSA | AWSPodIdentity:
		return "irsa+pod-identity"
	}
	return ""
}

// AWSCredentials tells which AWS credential mechanisms container ctr of
// pod uses, from what admission sees: the environment the mutating
// webhooks injected and the projected token volumes it mounts. Templates
// not yet mutated show neither; callers that know the service account's
// eks.amazonaws.com/role-arn annotation or a Pod Identity association add
// the mechanism themselves.
func AWSCredentials(pod *PodSpec, ctr *Container) AWSMechanism {
	var m AWSMechanism
	env := func(name string) (string, bool) {
		for _, e := range ctr.Env {
			if e.Name == name {
				return e.Value, true
			}
		}
		return "", false
	}
	_, role := env("AWS_ROLE_ARN")
	_, webIdentity := env("AWS_WEB_IDENTITY_TOKEN_FILE")
	if role && webIdentity {
		m |= AWSIRSA
	}
	uri, full := env("AWS_CONTAINER_CREDENTIALS_FULL_URI")
	_, authFile := env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
	if full && authFile && isPodIdentityAgent(uri) {
		m |= AWSPodIdentity
	}
	if pod == nil {
		return m
	}
	for _, vm := range ctr.VolumeMounts {
		for i := range pod.Volumes {
			v := &pod.Volumes[i]
			if v.Name != vm.Name || v.ServiceAccountToken == nil {
				continue
			}
			switch v.ServiceAccountToken.Audience {
			case AudienceIRSA:
				m |= AWSIRSA
			case AudiencePodIdentity:
				m |= AWSPodIdentity
			}
		}
	}
	return m
}

// isPodIdentityAgent reports whether a credentials URI points at the EKS
// Pod Identity agent (the ECS agent, 169.254.170.2, is another mechanism).
func isPodIdentityAgent(uri string) bool {
	u, err := url.Parse(uri)
	if err != nil {
		return false
	}
	addr, err := netip.ParseAddr(u.Hostname())
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, a := range podIdentityAgents {
		if addr == a {
			return true
		}
	}
	return false
}
