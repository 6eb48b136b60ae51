// Package corpus builds the layer-scanning corpus: container images made
// from real artifacts (npm tarballs, Debian packages, Go programs built
// from the module proxy, a host's /usr) whose Kubernetes and AWS SDK
// versions are known from how each image was built, and pushes them to a
// registry on 127.0.0.1 for scanners to read. docs/layer-corpus.md
// describes it.
package corpus
