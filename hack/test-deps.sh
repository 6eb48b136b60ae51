#!/usr/bin/env bash
# Installs what the test suite needs beyond Go, where it can: the CNCF
# distribution registry from Debian's docker-registry package, which the
# registry-evidence tests start on 127.0.0.1 (a registry without the OCI
# referrers API). Without root or apt-get it says so, and those tests skip.
# It builds helm (hack/tools/helm/build.sh) for the chart tests.
# It also fetches the artifacts of the layer-scanning corpus
# (hack/layer-corpus.sh, cached in ~/.cache/tokenguard; best effort: the
# corpus tests skip without them). LAYER_CORPUS_SYFT=1 also builds the
# syft peer (a cold build takes 10 to 20 minutes; make layer-bench builds
# it): test/corpus compares tokenguard with syft whenever syft is cached.
set -u
# helm, for the chart tests (charts/, test/e2e/helm_test.go): built once from
# the Go module proxy into ~/.cache/tokenguard/tools (a cold build takes 5 to
# 7 minutes); make test then passes its path as $TOKENGUARD_HELM. Not best
# effort: without it the chart tests fail (they do not skip in make test).
"$(dirname "$0")/tools/helm/build.sh" >/dev/null || echo "test-deps: hack/tools/helm/build.sh failed; the chart tests will fail" >&2
LAYER_CORPUS_SYFT=${LAYER_CORPUS_SYFT:-0} "$(dirname "$0")/layer-corpus.sh" >/dev/null || echo "test-deps: hack/layer-corpus.sh failed; the layer-corpus tests will skip" >&2
if command -v docker-registry >/dev/null 2>&1 || [ -x /usr/bin/docker-registry ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "test-deps: docker-registry is not installed and cannot be installed here (needs root and apt-get); the distribution-registry test will skip" >&2
	exit 0
fi
echo "test-deps: installing docker-registry (Debian package) for the registry tests" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || echo "test-deps: apt-get update failed" >&2
apt-get install -y -qq --no-install-recommends docker-registry >/dev/null 2>&1 || {
	echo "test-deps: apt-get install docker-registry failed; the distribution-registry test will skip" >&2
	exit 0
}
# The package may start a system service on :5000; the tests start their own.
systemctl disable --now docker-registry >/dev/null 2>&1 || service docker-registry stop >/dev/null 2>&1 || true
exit 0
