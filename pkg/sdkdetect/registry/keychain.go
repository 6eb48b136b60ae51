package registry

import (
	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// Credentials gives the credentials of whoever pulls an image: a keychain
// tried before Options.Keychain, and a stable name for it. key must change
// whenever kc's credentials do (for instance
// "namespace/serviceaccount/secret@resourceVersion,..."); registry clients
// are kept per registry and key. An empty key or a nil kc means none.
// pullsecrets.PullSecrets.Keychain is one.
//
// What a lookup finds (labels, SBOM packages, the digest a tag points at)
// is not secret and stays cached for every caller: a digest learnt with one
// namespace's credentials answers another namespace's review, as an image
// already on a node serves every pod with imagePullPolicy IfNotPresent.
// Failures are remembered per key, so that a lookup without credentials
// does not answer for one with them.
type Credentials func(namespace, serviceAccount string, pullSecrets []string) (key string, kc authn.Keychain)

// creds are the credentials of one lookup.
type creds struct {
	key string
	kc  authn.Keychain
}

// credsOf resolves who pulls into credentials; none without
// Options.Credentials, or for an unknown puller (no namespace).
func (s *Source) credsOf(p policy.Puller) creds {
	if s.opts.Credentials == nil || p.Namespace == "" {
		return creds{}
	}
	key, kc := s.opts.Credentials(p.Namespace, p.ServiceAccount, p.PullSecrets)
	if key == "" || kc == nil {
		return creds{}
	}
	return creds{key: key, kc: kc}
}

// scoped is the cache or flight key of a failure (or of work) done with c:
// key itself without credentials.
func (c creds) scoped(key string) string {
	if c.key == "" {
		return key
	}
	return key + "\x00" + c.key
}
