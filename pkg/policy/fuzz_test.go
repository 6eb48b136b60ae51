package policy

import (
	"reflect"
	"testing"
)

// FuzzEvaluate feeds arbitrary tags and package versions through every
// add-on and SDK rule: Evaluate must never panic, must give one of the four
// verdicts with a message, and must be deterministic.
func FuzzEvaluate(f *testing.F) {
	for _, s := range []string{
		"v1.8.0-eksbuild.1", "v1.29.0-minimal-eksbuild.2", "latest", "stable", "", "v", "1", "1.", ".1",
		"2.32.2.20241008", "v1.14.6-debian-cloudwatch-1.1", "v11.0.0+incompatible", "v0.0.0-20190601120000-abcdefabcdef",
		"12.0.0a1", "1!2.0", "1.0.0.pre.alpha2", "0.3.0.0", "9.0.0-SNAPSHOT", "init-2.31.12", "v99999999999999999999.0.0",
		"-", "--", "1.2.3-", "1.2.3+", "1..2", "\x00", "v1.2.3-rc.1+build.5",
		"v1.10.1-eks-1-28-6", "v1.11.4-eks-1-31-latest", "v1.29.1-eks-1-29-6", "init-latest",
		"windowsservercore-stable", "2.31.12-flb-1.9", "amd64-1.8.4", "v1.16-debian-cloudwatch-1",
		"v1.29.0-calico-hostprocess", "V1.8.0-EKSBUILD.1",
	} {
		f.Add(s)
	}
	c, err := DefaultCatalog()
	if err != nil {
		f.Fatal(err)
	}
	images := []string{}
	for _, r := range c.Rules() {
		if r.Kind == KindAddon {
			images = append(images, r.Match.Images[0])
		}
	}
	cp := &KubeVersion{1, 30}
	f.Fuzz(func(t *testing.T, version string) {
		p := &PodSpec{}
		ev := []*Evidence{}
		for i, repo := range images {
			p.Containers = append(p.Containers, Container{Name: "c" + string(rune('a'+i)), Image: repo + ":" + version})
			ev = append(ev, &Evidence{Ref: ImageRef{Registry: "docker.io", Repository: repo, Tag: version}})
		}
		var pkgs []Package
		for _, r := range c.Rules() {
			if r.Kind == KindSDK {
				m := r.Match.PURLs[0]
				pkgs = append(pkgs, Package{Type: m.Type, Namespace: m.Namespace, Name: m.Name, Version: version, Source: "sbom:spdx-referrer"})
			}
		}
		p.Containers = append(p.Containers, Container{Name: "app", Image: "ghcr.io/acme/app:1"})
		ev = append(ev, &Evidence{Ref: ImageRef{Registry: "ghcr.io", Repository: "acme/app", Tag: "1"}, SBOM: "sbom:spdx-referrer", Packages: pkgs})
		fs := c.Evaluate(p, ev, Options{ControlPlane: cp})
		for _, f := range fs {
			switch f.Verdict {
			case VerdictOK, VerdictTooOld, VerdictUnknown, VerdictNotApplicable:
			default:
				t.Fatalf("verdict %q", f.Verdict)
			}
			if f.Reason == "" || f.Message() == "" {
				t.Fatalf("finding without reason or message: %+v", f)
			}
			if (f.Verdict == VerdictTooOld || f.Verdict == VerdictUnknown) && f.Fix == "" {
				t.Fatalf("%s finding without a fix: %+v", f.Verdict, f)
			}
		}
		if again := c.Evaluate(p, ev, Options{ControlPlane: cp}); !reflect.DeepEqual(fs, again) {
			t.Fatalf("not deterministic")
		}
	})
}
