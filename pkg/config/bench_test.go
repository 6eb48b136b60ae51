package config

import "testing"

func BenchmarkExempter(b *testing.B) {
	x := compileExemptions(b, Exemptions{
		Namespaces:      []string{"legacy-batch", "team-*-sandbox"},
		ServiceAccounts: []string{"monitoring:old-exporter", "legacy:*", "ci-*:runner"},
		Images:          []string{"registry.example.com/legacy/**", "docker.io/library/busybox:*", "ghcr.io/acme/job:1.4.2", "*.dkr.ecr.*.amazonaws.com/legacy/*"},
		Components:      []string{"k8s.io/client-go"},
	})
	b.Run("miss", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = x.Namespace("prod")
			_ = x.ServiceAccount("prod", "api")
			_ = x.Image("602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/coredns:v1.8.4")
			_ = x.Component("coredns")
		}
	})
	b.Run("image-hit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = x.Image("busybox:1.36")
		}
	})
}
