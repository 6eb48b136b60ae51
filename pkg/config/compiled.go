package config

import (
	"fmt"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

// Compiled is a configuration made ready to use: the catalog with its
// overrides, the exemptions, and the control-plane version. It is the one
// value subcommands pass down.
type Compiled struct {
	*Configuration
	// Source names where the configuration came from: its file, or
	// "embedded defaults".
	Source  string
	Catalog *policy.Catalog
	// Exempter is nil when the configuration exempts nothing.
	Exempter *Exempter
	// ControlPlane is controlPlaneVersion, or nil (then discovered, or
	// given by a flag).
	ControlPlane *policy.KubeVersion
}

// LoadCompiled reads a TokenGuardConfiguration (the embedded defaults when
// path is empty) and compiles it. Errors name the file.
func LoadCompiled(path string) (*Compiled, error) {
	cfg, source := Default(), "embedded defaults"
	if path != "" {
		var err error
		if cfg, err = Load(path); err != nil {
			return nil, err
		}
		source = path
	}
	return Compile(cfg, source)
}

// Compile compiles a defaulted, valid configuration.
func Compile(cfg *Configuration, source string) (*Compiled, error) {
	c := &Compiled{Configuration: cfg, Source: source}
	var err error
	if c.Catalog, err = cfg.Catalog(); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if c.Exempter, err = cfg.Exemptions.Compile(); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if cfg.ControlPlaneVersion != "" {
		v, err := policy.ParseKubeVersion(cfg.ControlPlaneVersion)
		if err != nil {
			return nil, fmt.Errorf("%s: controlPlaneVersion: %w", source, err)
		}
		c.ControlPlane = &v
	}
	return c, nil
}

// OverrideControlPlane sets the control-plane version from a flag
// (--cluster-version), which wins over the configuration's; an empty flag
// changes nothing.
func (c *Compiled) OverrideControlPlane(flag string) error {
	if flag == "" {
		return nil
	}
	v, err := policy.ParseKubeVersion(flag)
	if err != nil {
		return fmt.Errorf("--cluster-version: %w", err)
	}
	c.ControlPlane = &v
	return nil
}
