package pullsecrets

import (
	"encoding/base64"
	"encoding/json"
	"path"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	corev1 "k8s.io/api/core/v1"

	"github.com/tokenguard/tokenguard/pkg/imageref"
)

// entry is one registry's credentials from a Docker config: the host
// (possibly with "*" globs per DNS label, as the kubelet allows) and an
// optional repository path prefix.
type entry struct {
	host, path string
	cfg        authn.AuthConfig
}

// dockerAuth is one "auths" value of a Docker config.
type dockerAuth struct {
	Username      string `json:"username"`
	Password      string `json:"password"`
	Auth          string `json:"auth"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

// parseSecret returns the credentials of a kubernetes.io/dockerconfigjson
// or kubernetes.io/dockercfg secret; nil for other or malformed secrets.
func parseSecret(s *corev1.Secret) []entry {
	var auths map[string]dockerAuth
	switch s.Type {
	case corev1.SecretTypeDockerConfigJson:
		var cfg struct {
			Auths map[string]dockerAuth `json:"auths"`
		}
		if json.Unmarshal(s.Data[corev1.DockerConfigJsonKey], &cfg) != nil {
			return nil
		}
		auths = cfg.Auths
	case corev1.SecretTypeDockercfg:
		if json.Unmarshal(s.Data[corev1.DockerConfigKey], &auths) != nil {
			return nil
		}
	default:
		return nil
	}
	out := make([]entry, 0, len(auths))
	for key, a := range auths {
		host, p := splitKey(key)
		if host == "" {
			continue
		}
		cfg := authn.AuthConfig{Username: a.Username, Password: a.Password, IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken}
		if a.Auth != "" {
			if dec, err := base64.StdEncoding.DecodeString(a.Auth); err == nil {
				if u, pw, ok := strings.Cut(string(dec), ":"); ok {
					cfg.Username, cfg.Password = u, pw
				}
			}
		}
		if cfg == (authn.AuthConfig{}) {
			continue
		}
		out = append(out, entry{host: host, path: p, cfg: cfg})
	}
	return out
}

// splitKey turns a Docker config key ("https://index.docker.io/v1/",
// "registry.example.com:5000/team") into a lower-case host, Docker Hub
// spelt as ggcr does, and a repository path prefix.
func splitKey(key string) (host, p string) {
	key = strings.TrimSpace(key)
	if i := strings.Index(key, "://"); i >= 0 {
		key = key[i+3:]
	}
	host, p, _ = strings.Cut(key, "/")
	host = strings.ToLower(host)
	if imageref.IsDockerHub(host) {
		host = name.DefaultRegistry
		p = strings.TrimPrefix(p, "v1")
	}
	return host, strings.Trim(p, "/")
}

// keychain resolves a registry to the credentials of the first entry that
// matches it, the longest path prefix first; other registries get
// authn.Anonymous, so that an authn.MultiKeychain goes on to the next
// keychain.
type keychain []entry

func newKeychain(entries []entry) keychain {
	// Stable: among equal paths, the pod's secrets (first) win.
	sort.SliceStable(entries, func(i, j int) bool { return len(entries[i].path) > len(entries[j].path) })
	return keychain(entries)
}

// Resolve implements authn.Keychain.
func (k keychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	host := strings.ToLower(r.RegistryStr())
	repo := ""
	if rr, ok := r.(name.Repository); ok {
		repo = rr.RepositoryStr()
	}
	for _, e := range k {
		if !hostMatch(e.host, host) {
			continue
		}
		if e.path != "" && repo != e.path && !strings.HasPrefix(repo, e.path+"/") {
			continue
		}
		return authn.FromConfig(e.cfg), nil
	}
	return authn.Anonymous, nil
}

// hostMatch matches host against pattern label by label, "*" globs
// allowed in pattern's labels (as the kubelet does: "*.dkr.ecr.*.amazonaws.com").
func hostMatch(pattern, host string) bool {
	if pattern == host {
		return true
	}
	if !strings.Contains(pattern, "*") {
		return false
	}
	pl, hl := strings.Split(pattern, "."), strings.Split(host, ".")
	if len(pl) != len(hl) {
		return false
	}
	for i := range pl {
		if ok, err := path.Match(pl[i], hl[i]); err != nil || !ok {
			return false
		}
	}
	return true
}
