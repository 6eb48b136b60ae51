// Package scale measures `tokenguard controller` on a large fleet through a
// real kube-apiserver (BenchmarkControllerScale, `make controller-scale`):
// time from start to all reports written, API writes, peak RSS and the
// largest report, at two fleet sizes.
package scale
