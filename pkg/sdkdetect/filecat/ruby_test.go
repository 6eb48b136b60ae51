package filecat

import "testing"

func TestRubyGemspec(t *testing.T) {
	awsCore := readTestdata(t, "ruby/debian-aws-sdk-core-3.168.1.gemspec")
	kubernetesIO := readTestdata(t, "ruby/kubernetes-io-1.0.0.pre.alpha2.gemspec")
	fluent := readTestdata(t, "ruby/fluent-plugin-kubernetes_metadata_filter-2.11.1.gemspec")
	const debian = "/usr/share/rubygems-integration/all/specifications/"
	const gems = "/usr/local/bundle/specifications/"
	gem := func(path, name, version string) []Found {
		return []Found{found(path, NameRubyGemspec, "gem", "", name, version)}
	}
	tests := []struct {
		name    string
		path    string
		content []byte
		want    []Found
		notes   int
	}{
		{name: "Debian aws-sdk-core", path: debian + "aws-sdk-core-3.168.1.gemspec", content: awsCore,
			want: gem(debian+"aws-sdk-core-3.168.1.gemspec", "aws-sdk-core", "3.168.1")},
		{name: "kubernetes-io", path: gems + "kubernetes-io-1.0.0.pre.alpha2.gemspec", content: kubernetesIO,
			want: gem(gems+"kubernetes-io-1.0.0.pre.alpha2.gemspec", "kubernetes-io", "1.0.0.pre.alpha2")},
		{name: "fluentd plugin", path: gems + "fluent-plugin-kubernetes_metadata_filter-2.11.1.gemspec", content: fluent,
			want: gem(gems+"fluent-plugin-kubernetes_metadata_filter-2.11.1.gemspec", "fluent-plugin-kubernetes_metadata_filter", "2.11.1")},
		{name: "file name only", path: gems + "kubernetes-io-1.0.0.pre.alpha2.gemspec", content: []byte("Gem::Specification.new do |s|\nend\n"),
			want: gem(gems+"kubernetes-io-1.0.0.pre.alpha2.gemspec", "kubernetes-io", "1.0.0.pre.alpha2")},
		{name: "no stub line", path: gems + "aws-sdk-core-3.0.0.gemspec",
			content: []byte("Gem::Specification.new do |s|\n  s.name = %q{aws-sdk-core}\n  s.version = \"3.58.0\"\nend\n"),
			want:    gem(gems+"aws-sdk-core-3.0.0.gemspec", "aws-sdk-core", "3.58.0")},
		{name: "content names another gem", path: gems + "aws-sdk-core-3.168.1.gemspec", content: kubernetesIO,
			want: gem(gems+"aws-sdk-core-3.168.1.gemspec", "kubernetes-io", "1.0.0.pre.alpha2")},
		{name: "another gem", path: gems + "aws-sdk-core-3.168.1.gemspec", content: []byte("# stub: aws-sdk-s3 1.0.0 ruby lib\n")},
		{name: "platform gem", path: gems + "aws-sdk-core-3.168.1-java.gemspec", content: nil,
			want: gem(gems+"aws-sdk-core-3.168.1-java.gemspec", "aws-sdk-core", "3.168.1")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkResult(t, readAll(t, rubyGemspec{}, tc.path, tc.content, testLimits), tc.want, tc.notes)
		})
	}
	for path, want := range map[string]bool{
		gems + "kubernetes-io-1.0.0.pre.alpha2.gemspec":                               true,
		gems + "fluent-plugin-kubernetes_metadata_filter-2.11.1.gemspec":              true,
		debian + "aws-sdk-core-3.168.1.gemspec":                                       true,
		gems + "aws-sdk-core-ext-1.0.0.gemspec":                                       false,
		gems + "aws-sdk-s3-1.0.0.gemspec":                                             false,
		gems + "kubernetes-io.gemspec":                                                false,
		"/usr/local/bundle/gems/kubernetes-io-1.0.0.pre.alpha2/kubernetes-io.gemspec": false,
		"/app/kubernetes-io-1.0.0.pre.alpha2.gemspec":                                 false,
	} {
		if got := (rubyGemspec{}).Wants(File{Path: path, Size: 10}); got != want {
			t.Errorf("Wants(%s) = %v, want %v", path, got, want)
		}
	}
}
