package corpus

import "strings"

// pythonImages are Debian's python3 packages (dist-packages, egg-info).
func (b *builder) pythonImages() []Image {
	l := newTarLayer()
	k := b.deb(l, "python3-kubernetes")
	kubeImg := Image{
		Name:  "python/debian-kubernetes",
		Image: b.image(docker, amd64, []string{"python3"}, b.layers(docker, l, b.dpkgStatusLayer(k))...),
		Want: []WantPackage{{Type: "pypi", Name: "kubernetes", Version: k.upstreamVersion(),
			Path: "/usr/lib/python3/dist-packages/kubernetes-" + k.upstreamVersion() + ".egg-info/PKG-INFO"}},
		Note: "Debian 12's python3-kubernetes " + k.version + ": dist-packages with an egg-info directory, and the dpkg status",
	}

	l1, l2 := newTarLayer(), newTarLayer()
	core := b.deb(l1, "python3-botocore")
	boto := b.deb(l2, "python3-boto3")
	botoImg := Image{
		Name:  "python/debian-boto3",
		Image: b.image(docker, amd64, []string{"python3"}, b.layers(docker, l1, l2, b.dpkgStatusLayer(core, boto))...),
		Want: []WantPackage{
			{Type: "pypi", Name: "botocore", Version: core.upstreamVersion(), Path: "/usr/lib/python3/dist-packages/botocore-" + core.upstreamVersion() + ".egg-info/PKG-INFO"},
			{Type: "pypi", Name: "boto3", Version: boto.upstreamVersion(), Path: "/usr/lib/python3/dist-packages/boto3-" + boto.upstreamVersion() + ".egg-info/PKG-INFO"},
		},
		Note: "Debian 12's python3-botocore and python3-boto3 (81 MB of botocore data files), one layer each",
	}
	return []Image{kubeImg, botoImg}
}

// rubyImage holds gem specifications: Debian's and bundler's.
func (b *builder) rubyImage() Image {
	l1 := newTarLayer()
	core := b.deb(l1, "ruby-aws-sdk-core")
	l2 := newTarLayer()
	const specs = "/usr/local/bundle/specifications/"
	gems := []struct{ name, version, summary, home string }{
		{"kubernetes-io", "1.0.0.pre.alpha2", "Kubernetes ruby client.", "https://kubernetes.io"},
		{"fluent-plugin-kubernetes_metadata_filter", "2.11.1", "Fluentd filter plugin to add Kubernetes metadata", "https://github.com/fabric8io/fluent-plugin-kubernetes_metadata_filter"},
	}
	want := []WantPackage{{Type: "gem", Name: "aws-sdk-core", Version: core.upstreamVersion(),
		Path: "/usr/share/rubygems-integration/all/specifications/aws-sdk-core-" + core.upstreamVersion() + ".gemspec"}}
	for _, g := range gems {
		path := specs + g.name + "-" + g.version + ".gemspec"
		l2.file(path, 0o644, gemspec(g.name, g.version, g.summary, g.home, map[string]string{"rest-client": "~> 2.0"}))
		l2.file("/usr/local/bundle/gems/"+g.name+"-"+g.version+"/lib/"+strings.ReplaceAll(g.name, "-", "_")+".rb", 0o644, []byte("# frozen_string_literal: true\n"))
		want = append(want, WantPackage{Type: "gem", Name: g.name, Version: g.version, Path: path})
	}
	return Image{
		Name:  "ruby/gems",
		Image: b.image(docker, amd64, []string{"ruby"}, b.layers(docker, l1, l2, b.dpkgStatusLayer(core))...),
		Want:  want,
		Note:  "Debian's ruby-aws-sdk-core (its real gemspec in rubygems-integration) and bundler-installed gemspecs of kubernetes-io 1.0.0.pre.alpha2 (the only release) and fluent-plugin-kubernetes_metadata_filter 2.11.1",
	}
}
