#!/usr/bin/env bash
# Installs what the test suite needs beyond Go, where it can: the CNCF
# distribution registry from Debian's docker-registry package, which the
# registry-evidence tests start on 127.0.0.1 (a registry without the OCI
# referrers API). Without root or apt-get it says so, and those tests skip.
set -u
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
