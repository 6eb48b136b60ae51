// Package awsid knows which service accounts get AWS credentials, and how:
// IAM roles for service accounts (IRSA), from the eks.amazonaws.com/role-arn
// annotation, and EKS Pod Identity, from the associations that the EKS API
// keeps (`aws eks list-pod-identity-associations`). Pod templates have not
// met the mutating webhooks that inject the credentials yet, so this is how
// check, audit and serve judge them as their pods will run.
package awsid

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// Annotations the IRSA webhook (aws/amazon-eks-pod-identity-webhook) reads.
const (
	// AnnotationRoleARN on a service account makes its pods use IRSA.
	AnnotationRoleARN = "eks.amazonaws.com/role-arn"
	// AnnotationTokenExpiration sets the lifetime, in seconds, of the token
	// the webhook projects; on the pod it overrides the service account's.
	AnnotationTokenExpiration = "eks.amazonaws.com/token-expiration"
	// AnnotationSkipContainers on a pod names the containers (comma
	// separated) the webhook does not mutate.
	AnnotationSkipContainers = "eks.amazonaws.com/skip-containers"
)

// key is a namespace and service account.
type key struct{ namespace, name string }

// account is what is known of one service account.
type account struct {
	mech            policy.AWSMechanism
	tokenExpiration string
}

// Directory maps service accounts to their AWS credential mechanisms. The
// zero value is empty and ready; it is not safe for concurrent writes, and
// safe for concurrent reads once filled.
type Directory struct {
	accounts map[key]account
}

func (d *Directory) update(namespace, name string, f func(*account)) {
	if d.accounts == nil {
		d.accounts = make(map[key]account)
	}
	k := key{defaultNamespace(namespace), defaultName(name)}
	a := d.accounts[k]
	f(&a)
	d.accounts[k] = a
}

// defaultNamespace is namespace, or "default" for a manifest that names
// none (kubectl applies it there unless told otherwise).
func defaultNamespace(namespace string) string {
	if namespace == "" {
		return "default"
	}
	return namespace
}

func defaultName(name string) string {
	if name == "" {
		return "default"
	}
	return name
}

// AddServiceAccount records a service account's IRSA annotations: a
// non-empty eks.amazonaws.com/role-arn means IRSA for its pods.
func (d *Directory) AddServiceAccount(namespace, name string, annotations map[string]string) {
	role := strings.TrimSpace(annotations[AnnotationRoleARN])
	exp := strings.TrimSpace(annotations[AnnotationTokenExpiration])
	if role == "" && exp == "" {
		return
	}
	d.update(namespace, name, func(a *account) {
		if role != "" {
			a.mech |= policy.AWSIRSA
		}
		a.tokenExpiration = exp
	})
}

// AddPodIdentityAssociation records that pods running as the service
// account get EKS Pod Identity credentials.
func (d *Directory) AddPodIdentityAssociation(namespace, serviceAccount string) {
	d.update(namespace, serviceAccount, func(a *account) { a.mech |= policy.AWSPodIdentity })
}

// Len is the number of service accounts known to use AWS credentials.
func (d *Directory) Len() int { return len(d.accounts) }

// AWSContext returns what is known of the AWS credentials of pods running
// as serviceAccount ("" is "default") in namespace.
func (d *Directory) AWSContext(namespace, serviceAccount string) policy.AWSContext {
	name := defaultName(serviceAccount)
	a, ok := d.accounts[key{defaultNamespace(namespace), name}]
	if !ok {
		return policy.AWSContext{}
	}
	return Context(a.mech, name, a.tokenExpiration)
}

// Context builds the policy.AWSContext of pods of a service account named
// name that uses mech, with its token-expiration annotation.
func Context(mech policy.AWSMechanism, name, tokenExpiration string) policy.AWSContext {
	c := policy.AWSContext{Mechanisms: mech}
	if tokenExpiration != "" {
		c.TokenExpiration, c.TokenExpirationFrom = tokenExpiration, "service account "+`"`+name+`"`
	}
	return c
}

// FromServiceAccount is Context for a service account's annotations.
func FromServiceAccount(name string, annotations map[string]string) policy.AWSContext {
	var mech policy.AWSMechanism
	if strings.TrimSpace(annotations[AnnotationRoleARN]) != "" {
		mech = policy.AWSIRSA
	}
	return Context(mech, defaultName(name), strings.TrimSpace(annotations[AnnotationTokenExpiration]))
}

// Merge joins what the pod itself says (its annotations) with what its
// service account says: mechanisms add up, the pod's token expiration
// overrides the service account's (as the IRSA webhook does).
func Merge(pod, sa policy.AWSContext) policy.AWSContext {
	out := sa
	out.Mechanisms |= pod.Mechanisms
	out.SkipContainers = pod.SkipContainers
	if pod.TokenExpiration != "" {
		out.TokenExpiration, out.TokenExpirationFrom = pod.TokenExpiration, pod.TokenExpirationFrom
	}
	return out
}

// association is one entry of `aws eks list-pod-identity-associations`.
type association struct {
	ClusterName    string `json:"clusterName"`
	Namespace      string `json:"namespace"`
	ServiceAccount string `json:"serviceAccount"`
	AssociationARN string `json:"associationArn"`
	AssociationID  string `json:"associationId"`
}

// ReadAssociations reads the JSON that `aws eks
// list-pod-identity-associations` prints ({"associations": [...]}), or that
// `describe-pod-identity-association` prints ({"association": {...}}), or a
// bare array of associations, and records each. Several documents may
// follow one another (the pages of a paginated listing). Errors name the
// document and association; nothing is recorded from a document that does
// not parse.
func (d *Directory) ReadAssociations(r io.Reader) (int, error) {
	dec := json.NewDecoder(r)
	n := 0
	for doc := 1; ; doc++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == io.EOF {
			if doc == 1 {
				return 0, errors.New("no JSON document: expected the output of aws eks list-pod-identity-associations")
			}
			return n, nil
		} else if err != nil {
			return n, fmt.Errorf("document %d: %w", doc, err)
		}
		list, err := parseAssociations(bytes.TrimSpace(raw))
		if err != nil {
			return n, fmt.Errorf("document %d: %w", doc, err)
		}
		for i, a := range list {
			if a.Namespace == "" || a.ServiceAccount == "" {
				return n, fmt.Errorf("document %d: associations[%d]: namespace and serviceAccount are required", doc, i)
			}
		}
		for _, a := range list {
			d.AddPodIdentityAssociation(a.Namespace, a.ServiceAccount)
		}
		n += len(list)
	}
}

func parseAssociations(raw []byte) ([]association, error) {
	if len(raw) > 0 && raw[0] == '[' {
		var list []association
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("an array of associations: %w", err)
		}
		return list, nil
	}
	var doc struct {
		Associations *[]association `json:"associations"`
		Association  *association   `json:"association"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("expected {\"associations\": [...]} as aws eks list-pod-identity-associations prints: %w", err)
	}
	switch {
	case doc.Associations != nil:
		return *doc.Associations, nil
	case doc.Association != nil:
		return []association{*doc.Association}, nil
	}
	return nil, errors.New(`no "associations" field: expected the output of aws eks list-pod-identity-associations`)
}
