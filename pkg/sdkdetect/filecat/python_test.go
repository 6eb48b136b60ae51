package filecat

import (
	"bytes"
	"testing"
)

func TestPythonMetadata(t *testing.T) {
	debianKubernetes := readTestdata(t, "python/debian-python3-kubernetes-22.6.0.PKG-INFO")
	debianBotocore := readTestdata(t, "python/debian-python3-botocore-1.29.27.PKG-INFO")
	botocore := readTestdata(t, "python/botocore-1.43.11.METADATA")
	boto3 := readTestdata(t, "python/boto3-1.43.11.METADATA")
	other := readTestdata(t, "python/jsonpath_ng-1.8.0.METADATA")
	// Debian bullseye's python3-kubernetes 12.0.1 in distutils' single-file
	// layout: the egg-info file is the PKG-INFO.
	kubernetes12 := bytes.Replace(debianKubernetes, []byte("Version: 22.6.0"), []byte("Version: 12.0.1"), 1)
	const dist = "/usr/lib/python3/dist-packages/"
	const site = "/usr/local/lib/python3.11/site-packages/"
	pkg := func(path, name, version string) []Found {
		return []Found{found(path, NamePythonMetadata, "pypi", "", name, version)}
	}
	tests := []struct {
		name    string
		path    string
		content []byte
		want    []Found
		notes   int
	}{
		{name: "Debian egg-info directory", path: dist + "kubernetes-22.6.0.egg-info/PKG-INFO", content: debianKubernetes,
			want: pkg(dist+"kubernetes-22.6.0.egg-info/PKG-INFO", "kubernetes", "22.6.0")},
		{name: "egg-info single file", path: dist + "kubernetes-12.0.1.egg-info", content: kubernetes12,
			want: pkg(dist+"kubernetes-12.0.1.egg-info", "kubernetes", "12.0.1")},
		{name: "egg-info with Python version", path: site + "kubernetes-12.0.1-py3.8.egg-info/PKG-INFO", content: kubernetes12,
			want: pkg(site+"kubernetes-12.0.1-py3.8.egg-info/PKG-INFO", "kubernetes", "12.0.1")},
		{name: "Debian botocore", path: dist + "botocore-1.29.27.egg-info/PKG-INFO", content: debianBotocore,
			want: pkg(dist+"botocore-1.29.27.egg-info/PKG-INFO", "botocore", "1.29.27")},
		{name: "wheel botocore", path: site + "botocore-1.43.11.dist-info/METADATA", content: botocore,
			want: pkg(site+"botocore-1.43.11.dist-info/METADATA", "botocore", "1.43.11")},
		{name: "wheel boto3", path: site + "boto3-1.43.11.dist-info/METADATA", content: boto3,
			want: pkg(site+"boto3-1.43.11.dist-info/METADATA", "boto3", "1.43.11")},
		{name: "METADATA of another package", path: site + "kubernetes-29.0.0.dist-info/METADATA", content: other},
		{name: "name in another case and spelling", path: site + "Kubernetes-29.0.0.dist-info/METADATA",
			content: []byte("Metadata-Version: 2.1\r\nName: Kubernetes\r\nVersion: 29.0.0\r\n\r\nbody\r\n"),
			want:    pkg(site+"Kubernetes-29.0.0.dist-info/METADATA", "kubernetes", "29.0.0")},
		{name: "version only in the body", path: site + "kubernetes-29.0.0.dist-info/METADATA",
			content: []byte("Metadata-Version: 2.1\nName: kubernetes\n\nVersion: 29.0.0\n"), notes: 1},
		{name: "no Name header", path: site + "kubernetes-29.0.0.dist-info/METADATA",
			content: []byte("Metadata-Version: 2.1\nVersion: 29.0.0\n"), notes: 1},
		{name: "continuation line", path: site + "kubernetes-29.0.0.dist-info/METADATA",
			content: []byte("Metadata-Version: 2.1\nSummary: a\n Name: other\nName: kubernetes\nVersion: 29.0.0\n"),
			want:    pkg(site+"kubernetes-29.0.0.dist-info/METADATA", "kubernetes", "29.0.0")},
		{name: "very long header line", path: site + "kubernetes-29.0.0.dist-info/METADATA",
			content: append(append([]byte("Metadata-Version: 2.1\nSummary: "), bytes.Repeat([]byte("x"), 3*maxLine)...), "\nName: kubernetes\nVersion: 29.0.0\n"...),
			want:    pkg(site+"kubernetes-29.0.0.dist-info/METADATA", "kubernetes", "29.0.0")},
		{name: "empty", path: site + "kubernetes-29.0.0.dist-info/METADATA", notes: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkResult(t, readAll(t, pythonMetadata{}, tc.path, tc.content, testLimits), tc.want, tc.notes)
		})
	}
}

func TestPythonMetadataWants(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"/usr/lib/python3/dist-packages/kubernetes-22.6.0.egg-info/PKG-INFO", true},
		{"/usr/lib/python3/dist-packages/kubernetes-12.0.1.egg-info", true},
		{"/usr/lib/python3/dist-packages/kubernetes.egg-info/PKG-INFO", true},
		{"/site-packages/kubernetes-29.0.0.dist-info/METADATA", true},
		{"/site-packages/Kubernetes-29.0.0.dist-info/METADATA", true},
		{"/site-packages/botocore-1.43.11.dist-info/METADATA", true},
		{"/site-packages/boto3-1.43.11.dist-info/METADATA", true},
		{"/site-packages/kubernetes_asyncio-29.0.0.dist-info/METADATA", false},
		{"/site-packages/kubernetes-29.0.0.dist-info/RECORD", false},
		{"/site-packages/jsonpath_ng-1.8.0.dist-info/METADATA", false},
		{"/site-packages/boto-2.49.0.dist-info/METADATA", false},
		{"/site-packages/kubernetes/METADATA", false},
		{"/usr/lib/python3/dist-packages/kubernetes-22.6.0.egg-info/requires.txt", false},
		{"/site-packages/kubernetes-12.0.1-py3.8.egg/EGG-INFO/PKG-INFO", true},
		{"/site-packages/requests-2.0-py3.8.egg/EGG-INFO/PKG-INFO", false},
		{"/site-packages/EGG-INFO/PKG-INFO", false},
	}
	for _, tc := range tests {
		if got := (pythonMetadata{}).Wants(File{Path: tc.path, Size: 100}); got != tc.want {
			t.Errorf("Wants(%s) = %v, want %v", tc.path, got, tc.want)
		}
	}
}
