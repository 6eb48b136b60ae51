package filecat

import (
	"strings"
	"testing"
)

func TestNPMPackage(t *testing.T) {
	clientNode := readTestdata(t, "npm/kubernetes-client-node-0.10.3.package.json")
	awsProvider := readTestdata(t, "npm/aws-sdk-credential-provider-node-3.503.1.package.json")
	// npm 5 and 6 rewrote installed package.json files with "_" fields
	// first.
	npm6 := []byte(`{
  "_from": "@kubernetes/client-node@^0.10.2",
  "_id": "@kubernetes/client-node@0.10.3",
  "_inBundle": false,
  "_integrity": "sha512-x",
  "_location": "/@kubernetes/client-node",
  "_requested": {"type": "range", "registry": true, "raw": "@kubernetes/client-node@^0.10.2", "name": "@kubernetes/client-node"},
  "_requiredBy": ["/"],
  "_resolved": "https://registry.npmjs.org/@kubernetes/client-node/-/client-node-0.10.3.tgz",
  "author": {"name": "Kubernetes Authors"},
  "dependencies": {"js-yaml": "^3.13.1"},
  "description": "NodeJS client for kubernetes",
  "license": "Apache-2.0",
  "name": "@kubernetes/client-node",
  "version": "0.10.3"
}`)
	const app = "/usr/src/app/"
	clientNodeAt := func(path string) []Found {
		return []Found{found(path, NameNPMPackage, "npm", "@kubernetes", "client-node", "0.10.3")}
	}
	tests := []struct {
		name    string
		path    string
		content []byte
		lim     Limits
		want    []Found
		notes   int
	}{
		{name: "installed", path: app + "node_modules/@kubernetes/client-node/package.json", content: clientNode,
			want: clientNodeAt(app + "node_modules/@kubernetes/client-node/package.json")},
		{name: "nested node_modules", path: app + "node_modules/operator-kit/node_modules/@kubernetes/client-node/package.json", content: clientNode,
			want: clientNodeAt(app + "node_modules/operator-kit/node_modules/@kubernetes/client-node/package.json")},
		{name: "pnpm store", path: app + "node_modules/.pnpm/@kubernetes+client-node@0.10.3/node_modules/@kubernetes/client-node/package.json", content: clientNode,
			want: clientNodeAt(app + "node_modules/.pnpm/@kubernetes+client-node@0.10.3/node_modules/@kubernetes/client-node/package.json")},
		{name: "rewritten by npm 6", path: app + "node_modules/@kubernetes/client-node/package.json", content: npm6,
			want: clientNodeAt(app + "node_modules/@kubernetes/client-node/package.json")},
		{name: "byte order mark", path: app + "node_modules/@kubernetes/client-node/package.json", content: append([]byte("\xef\xbb\xbf"), clientNode...),
			want: clientNodeAt(app + "node_modules/@kubernetes/client-node/package.json")},
		{name: "AWS credential provider", path: app + "node_modules/@aws-sdk/credential-provider-node/package.json", content: awsProvider,
			want: []Found{found(app+"node_modules/@aws-sdk/credential-provider-node/package.json", NameNPMPackage, "npm", "@aws-sdk", "credential-provider-node", "3.503.1")}},
		{name: "aws-sdk", path: app + "node_modules/aws-sdk/package.json", content: []byte(`{"name":"aws-sdk","description":"AWS SDK for JavaScript","version":"2.1550.0"}`),
			want: []Found{found(app+"node_modules/aws-sdk/package.json", NameNPMPackage, "npm", "", "aws-sdk", "2.1550.0")}},
		{name: "the application's own package.json", path: app + "package.json", content: clientNode},
		{name: "package.json inside the package", path: app + "node_modules/@kubernetes/client-node/dist/package.json", content: clientNode},
		{name: "name disagrees with the path", path: app + "node_modules/aws-sdk/package.json", content: clientNode},
		{name: "not JSON", path: app + "node_modules/aws-sdk/package.json", content: []byte(`{"name": "aws-sdk", "version": `), notes: 1},
		{name: "no version", path: app + "node_modules/aws-sdk/package.json", content: []byte(`{"name": "aws-sdk", "private": true}`), notes: 1},
		{name: "version not a string", path: app + "node_modules/aws-sdk/package.json", content: []byte(`{"name": "aws-sdk", "version": {"x": [1]}}`), notes: 1},
		{name: "beyond the cap", path: app + "node_modules/aws-sdk/package.json",
			content: []byte(`{"readme": "` + strings.Repeat("x", 5000) + `", "name": "aws-sdk", "version": "2.1.0"}`),
			lim:     Limits{MaxFileBytes: 1000}, notes: 1},
		{name: "JSON array", path: app + "node_modules/aws-sdk/package.json", content: []byte(`["aws-sdk"]`), notes: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lim := tc.lim
			if lim == (Limits{}) {
				lim = testLimits
			}
			checkResult(t, readAll(t, npmPackage{}, tc.path, tc.content, lim), tc.want, tc.notes)
		})
	}
}

func TestNPMPackageWants(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"/app/node_modules/@kubernetes/client-node/package.json", true},
		{"/app/node_modules/x/node_modules/@kubernetes/client-node/package.json", true},
		{"/app/node_modules/.pnpm/@kubernetes+client-node@0.10.3/node_modules/@kubernetes/client-node/package.json", true},
		{"/app/node_modules/aws-sdk/package.json", true},
		{"/app/node_modules/@aws-sdk/credential-providers/package.json", true},
		{"/app/node_modules/@aws-sdk/client-s3/package.json", false},
		{"/app/node_modules/@kubernetes/client-node/dist/package.json", false},
		{"/app/node_modules/client-node/package.json", false},
		{"/app/@kubernetes/client-node/package.json", false},
		{"/app/package.json", false},
		{"/package.json", false},
		{"package.json", false},
		{"/app/node_modules/.bin/package.json", false},
		{"/app/node_modules/@kubernetes/package.json", false},
		{"/app/node_modules/aws-sdk/package.json.bak", false},
	}
	for _, tc := range tests {
		if got := (npmPackage{}).Wants(File{Path: tc.path, Size: 100}); got != tc.want {
			t.Errorf("Wants(%s) = %v, want %v", tc.path, got, tc.want)
		}
	}
}
