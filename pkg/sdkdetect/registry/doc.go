// Package registry finds the config labels and SBOM packages of container images in their registries, within a time budget, caching what it finds by digest.
package registry
