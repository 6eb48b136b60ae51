package scheme

import "testing"

func TestSemver(t *testing.T) {
	cases := []checkCase{
		// The tag trap: -eksbuild.N is a build suffix, not a prerelease.
		{name: "eksbuild equal to minimum", found: "v1.8.0-eksbuild.1", min: "1.8.0", want: OK},
		{name: "minimal-eksbuild equal", found: "v1.29.0-minimal-eksbuild.2", min: "1.29.0", want: OK},
		{name: "eksbuild above", found: "v1.11.1-eksbuild.9", min: "1.8.4", want: OK},
		{name: "eksbuild below", found: "v1.7.5-eksbuild.1", min: "1.8.0", want: TooOld},
		{name: "eksbuild patch below", found: "v1.8.3-eksbuild.1", min: "1.8.4", want: TooOld},
		{name: "eksbuild upper case", found: "V1.8.0-EKSBUILD.1", min: "1.8.0", want: OK},
		{name: "eksbuild without number", found: "v1.8.0-eksbuild", min: "1.8.0", want: OK},
		{name: "minimum with v", found: "1.8.4", min: "v1.8.4", want: OK},
		{name: "minimum with eksbuild", found: "v1.8.0", min: "v1.8.0-eksbuild.1", want: OK},
		{name: "build metadata", found: "1.8.0+build.5", min: "1.8.0", want: OK},
		{name: "linux_amd64 flavour", found: "v1.8.0-linux_amd64", min: "1.8.0", want: OK},
		{name: "linux-arm64 flavour", found: "v1.8.0-linux-arm64", min: "1.8.0", want: OK},
		{name: "amd64 flavour", found: "v1.8.0-amd64", min: "1.8.0", want: OK},
		{name: "arm64 flavour", found: "v1.8.0-arm64", min: "1.8.0", want: OK},
		{name: "windows flavour", found: "v1.8.0-windows-ltsc2022-amd64", min: "1.8.0", want: OK},
		{name: "distroless flavour", found: "v2.0.0-distroless", min: "2.0.0", want: OK},
		{name: "eksbuild then arch", found: "v1.8.0-eksbuild.1-linux_amd64", min: "1.8.0", want: OK},
		{name: "flavour below", found: "v1.7.0-linux_amd64", min: "1.8.0", want: TooOld},
		// EKS Distro builds: v<upstream>-eks-<k8s major>-<k8s minor>-<release>
		// (public.ecr.aws/eks-distro/coredns/coredns:v1.10.1-eks-1-28-6 in
		// EKS Anywhere's EKSCoreDNSVersionMap; -eks-1-31-latest in CI scripts).
		{name: "eks distro equal", found: "v1.8.4-eks-1-21-9", min: "1.8.4", want: OK},
		{name: "eks distro latest release", found: "v1.8.4-eks-1-31-latest", min: "1.8.4", want: OK},
		{name: "eks distro below", found: "v1.8.3-eks-1-21-4", min: "1.8.4", want: TooOld},
		{name: "eks distro then arch", found: "v1.8.4-eks-1-21-9-amd64", min: "1.8.4", want: OK},
		{name: "eks distro upper case", found: "V1.8.4-EKS-1-21-9", min: "1.8.4", want: OK},
		{name: "eks distro truncated", found: "v1.8.4-eks-1-21", min: "1.8.4", want: Unknown, reason: ReasonUnknownSuffix},
		{name: "eks alone", found: "v1.8.4-eks", min: "1.8.4", want: Unknown, reason: ReasonUnknownSuffix},
		{name: "eks distro with words", found: "v1.8.4-eks-one-21-9", min: "1.8.4", want: Unknown, reason: ReasonUnknownSuffix},
		{name: "eks distro latest too early", found: "v1.8.4-eks-1-latest", min: "1.8.4", want: Unknown, reason: ReasonUnknownSuffix},
		// Real prereleases.
		{name: "rc below release", found: "v2.0.0-rc.1", min: "2.0.0", want: TooOld},
		{name: "rc above older minimum", found: "v2.0.0-rc.1", min: "1.8.0", want: OK},
		{name: "alpha below", found: "v1.8.0-alpha.2", min: "1.8.0", want: TooOld},
		{name: "beta below", found: "1.8.0-beta", min: "1.8.0", want: TooOld},
		{name: "rc1 below", found: "1.8.0-rc1", min: "1.8.0", want: TooOld},
		{name: "rc vs rc minimum, later", found: "2.0.0-rc.2", min: "2.0.0-rc.1", want: OK},
		{name: "rc vs rc minimum, earlier", found: "2.0.0-rc.1", min: "2.0.0-rc.2", want: TooOld},
		{name: "rc numeric identifier", found: "2.0.0-rc.10", min: "2.0.0-rc.9", want: OK},
		{name: "release vs rc minimum", found: "2.0.0", min: "2.0.0-rc.1", want: OK},
		// Unrecognised suffixes: decided by the core when it differs.
		{name: "unknown suffix above", found: "v1.9.0-custom", min: "1.8.4", want: OK},
		{name: "unknown suffix below", found: "v1.8.3-custom", min: "1.8.4", want: TooOld},
		{name: "unknown suffix equal", found: "v1.8.4-custom", min: "1.8.4", want: Unknown, reason: ReasonUnknownSuffix},
		{name: "numeric suffix equal", found: "v1.8.4-2", min: "1.8.4", want: Unknown, reason: ReasonUnknownSuffix},
		// Partial versions are ranges.
		{name: "partial above", found: "1.9", min: "1.8.4", want: OK},
		{name: "partial spans", found: "1.8", min: "1.8.4", want: Unknown, reason: ReasonPartialSpans},
		{name: "partial below", found: "1.7", min: "1.8.4", want: TooOld},
		{name: "major only spans", found: "v1", min: "1.8.4", want: Unknown, reason: ReasonPartialSpans},
		{name: "major only above", found: "v2", min: "1.8.4", want: OK},
		{name: "major only below", found: "v1", min: "2.0.0", want: TooOld},
		{name: "major only at x.0.0", found: "v2", min: "2.0.0", want: OK},
		{name: "partial at x.y.0", found: "1.8", min: "1.8.0", want: OK},
		{name: "partial with eksbuild", found: "v1.9-eksbuild.1", min: "1.8.4", want: OK},
		{name: "partial with rc spans", found: "v2-rc.1", min: "2.0.0", want: Unknown, reason: ReasonPartialSpans},
		// Not semver.
		{name: "four parts", found: "1.8.4.1", min: "1.8.4", want: Unknown, reason: ReasonFourPart},
		{name: "trailing dot", found: "1.8.", min: "1.8.4", want: Unknown, reason: ReasonUnparsable},
		{name: "trailing dash", found: "1.8.4-", min: "1.8.4", want: Unknown, reason: ReasonUnparsable},
		{name: "x wildcard", found: "1.x", min: "1.8.4", want: Unknown, reason: ReasonUnparsable},
		{name: "latest-arch", found: "latest-amd64", min: "1.8.4", want: Unknown, reason: ReasonFloating},
		// Big numbers compare without overflow.
		{name: "huge numbers", found: "1.99999999999999999999999.0", min: "1.8.4", want: OK},
		{name: "leading zeros tolerated", found: "1.08.5", min: "1.8.4", want: OK},
	}
	cases = append(cases, unknownCases("1.8.4")...)
	runCheckCases(t, "semver", cases)
}
