package registry

import (
	"context"

	"github.com/google/go-containerregistry/pkg/authn"
)

// creds are the credentials of one review: a keychain tried before
// Options.Keychain, and the caller's stable name for it.
type creds struct {
	key string
	kc  authn.Keychain
}

type credsKey struct{}

// WithKeychain returns a context whose lookups (Evidence, Prefetch) try kc
// before Options.Keychain: the credentials of one review, such as a pod's
// image pull secrets. key names kc stably and must change whenever kc's
// credentials do (for instance "namespace/serviceaccount/secret@resourceVersion,...");
// registry clients are kept per registry and key. An empty key or a nil kc
// leaves ctx unchanged.
//
// What a lookup finds (labels, SBOM packages, the digest a tag points at)
// is not secret and stays cached for every caller: a digest learnt with one
// namespace's credentials answers another namespace's review, as an image
// already on a node serves every pod with imagePullPolicy IfNotPresent.
// Failures are remembered per key, so that a lookup without credentials
// does not answer for one with them.
func WithKeychain(ctx context.Context, key string, kc authn.Keychain) context.Context {
	if key == "" || kc == nil {
		return ctx
	}
	return context.WithValue(ctx, credsKey{}, creds{key: key, kc: kc})
}

func credsFrom(ctx context.Context) creds {
	c, _ := ctx.Value(credsKey{}).(creds)
	return c
}

// scoped is the cache or flight key of a failure (or of work) done with c:
// key itself without credentials.
func (c creds) scoped(key string) string {
	if c.key == "" {
		return key
	}
	return key + "\x00" + c.key
}
