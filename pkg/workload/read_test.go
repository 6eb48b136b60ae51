package workload

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tokenguard/tokenguard/pkg/policy"
)

func TestReadFixtures(t *testing.T) {
	tests := []struct {
		name    string
		paths   []string
		want    []string
		skipped map[string]int
		errs    []string
	}{
		{
			name:  "every kind, one file each, directory walk in lexical order",
			paths: []string{"testdata/kinds"},
			want: []string{
				"batch/v1 CronJob batch/report testdata/kinds/cronjob.yaml#1.0 [regular report=ghcr.io/acme/report:3.1]",
				"apps/v1 DaemonSet kube-system/kube-proxy testdata/kinds/daemonset.yaml#1.0 [regular kube-proxy=registry.k8s.io/kube-proxy:v1.29.3]",
				"apps/v1 Deployment prod/api testdata/kinds/deployment.yaml#1.0 [regular api=ghcr.io/acme/api:1.4]",
				"batch/v1 Job batch/backfill testdata/kinds/job.yaml#1.0 [regular backfill=ghcr.io/acme/backfill:0.9]",
				"v1 Pod shop/web testdata/kinds/pod.yaml#1.0 [init migrate=ghcr.io/acme/migrate:2.0, regular web=ghcr.io/acme/web:1.4, ephemeral debugger=busybox:1.36]",
				"apps/v1 ReplicaSet web/frontend testdata/kinds/replicaset.yaml#1.0 [regular php=php:8.3-apache]",
				"v1 ReplicationController /legacy-nginx testdata/kinds/replicationcontroller.yaml#1.0 [regular nginx=nginx:1.25]",
				"apps/v1 StatefulSet /db testdata/kinds/statefulset.yaml#1.0 [regular postgres=postgres:16]",
			},
		},
		{
			name:  "older group versions; unknown version is an error, other groups' Deployment skipped",
			paths: []string{"testdata/legacy.yaml"},
			want: []string{
				"extensions/v1beta1 Deployment prod/old-api testdata/legacy.yaml#1.0 [regular api=ghcr.io/acme/api:0.1]",
				"batch/v1beta1 CronJob /old-report testdata/legacy.yaml#2.0 [regular report=ghcr.io/acme/report:0.1]",
				"apps/v1beta2 DaemonSet /old-agent testdata/legacy.yaml#3.0 [regular agent=ghcr.io/acme/agent:0.1]",
			},
			skipped: map[string]int{"Deployment": 1},
			errs: []string{
				`testdata/legacy.yaml: document 4 (Deployment future): apiVersion: unsupported apiVersion "apps/v1beta3" for Deployment`,
			},
		},
		{
			name:  "kind List: items expanded, non-workloads skipped, item errors numbered",
			paths: []string{"testdata/list.yaml"},
			want: []string{
				"apps/v1 Deployment prod/api testdata/list.yaml#1.2 [regular api=ghcr.io/acme/api:1.4]",
			},
			skipped: map[string]int{"Service": 1},
			errs: []string{
				"testdata/list.yaml: document 1, item 3 (Pod broken): spec.containers[0].image: container has no image",
				"testdata/list.yaml: document 1, item 4 (Pod no-version): apiVersion: required value",
			},
		},
		{
			name:  "DeploymentList: items without apiVersion and kind take the list's",
			paths: []string{"testdata/deploymentlist.yaml"},
			want: []string{
				"apps/v1 Deployment prod/api testdata/deploymentlist.yaml#1.1 [regular api=ghcr.io/acme/api:1.4]",
				"apps/v1 Deployment prod/worker testdata/deploymentlist.yaml#1.2 [regular worker=ghcr.io/acme/worker:2.2]",
			},
		},
		{
			name:  "JSON file with one object",
			paths: []string{"testdata/deployment.json"},
			want: []string{
				"apps/v1 Deployment prod/api testdata/deployment.json#1.0 [regular api=ghcr.io/acme/api:1.4]",
			},
		},
		{
			name:  "concatenated JSON objects, truncated last one",
			paths: []string{"testdata/concatenated.json"},
			want: []string{
				"v1 Pod /a testdata/concatenated.json#1.0 [regular a=a:1]",
				"v1 Pod /b testdata/concatenated.json#3.0 [regular b=b:1]",
			},
			skipped: map[string]int{"ConfigMap": 1},
			errs: []string{
				"testdata/concatenated.json: document 4: json: unexpected EOF (the rest of this JSON stream was not read)",
			},
		},
		{
			name:  "YAML syntax error in the middle: documents 1 and 3 kept",
			paths: []string{"testdata/bad-syntax.yaml"},
			want: []string{
				"v1 Pod /first testdata/bad-syntax.yaml#1.0 [regular app=app:1]",
				"v1 Pod /third testdata/bad-syntax.yaml#3.0 [regular app=app:3]",
			},
			errs: []string{
				"testdata/bad-syntax.yaml: document 2: yaml: line 13: mapping values are not allowed in this context",
			},
		},
		{
			name:  "validation and type errors, each naming document and field",
			paths: []string{"testdata/invalid.yaml"},
			errs: []string{
				"testdata/invalid.yaml: document 1 (Deployment default/empty): spec.template.spec.containers: workload has no containers",
				"testdata/invalid.yaml: document 2 (CronJob nightly): spec.jobTemplate.spec.template.spec.initContainers[0].image: container has no image",
				"testdata/invalid.yaml: document 2 (CronJob nightly): spec.jobTemplate.spec.template.spec.containers[1].image: container has no image",
				"testdata/invalid.yaml: document 3 (StatefulSet typo): spec.template.spec.containers: wrong type: got string, want array",
				"testdata/invalid.yaml: document 4: kind: required value",
				"testdata/invalid.yaml: document 5 (Pod where): apiVersion: required value",
				"testdata/invalid.yaml: document 6: document is not an object",
				"testdata/invalid.yaml: document 7 (Pod init-only): spec.containers: workload has no containers",
			},
		},
		{
			name:  "numbering: comment-only sections count, blank ones do not; --- with content or comment",
			paths: []string{"testdata/numbering.yaml"},
			want: []string{
				"apps/v1 Deployment /three testdata/numbering.yaml#3.0 [regular app=app:3]",
				"v1 Pod /five testdata/numbering.yaml#5.0 [regular app=app:5]",
			},
			skipped: map[string]int{"ConfigMap": 1},
		},
		{
			name:  "directory: recursive, sorted, only yaml/yml/json, hidden files and dirs skipped",
			paths: []string{"testdata/tree"},
			want: []string{
				"v1 Pod /a testdata/tree/a.yaml#1.0 [regular a=a:1]",
				"batch/v1 Job /b testdata/tree/sub/b.yml#1.0 [regular b=b:1]",
				"v1 Pod /c testdata/tree/sub/deeper/c.json#1.0 [regular c=c:1]",
			},
		},
		{
			name:  "explicit file is read whatever its name",
			paths: []string{"testdata/tree/sub/notes.txt"},
			errs: []string{
				"testdata/tree/sub/notes.txt: document 1: yaml: line 3: did not find expected node content",
			},
		},
		{
			name:  "nonexistent path is an error, other paths still read",
			paths: []string{"testdata/nope.yaml", "testdata/tree/a.yaml"},
			want: []string{
				"v1 Pod /a testdata/tree/a.yaml#1.0 [regular a=a:1]",
			},
			errs: []string{"testdata/nope.yaml: no such file or directory"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Read(tt.paths, nil)
			if got := describeAll(res.Workloads); !reflect.DeepEqual(got, nonNil(tt.want)) {
				t.Errorf("workloads:\n got %q\nwant %q", got, tt.want)
			}
			if !reflect.DeepEqual(res.Skipped, tt.skipped) {
				t.Errorf("skipped = %v, want %v", res.Skipped, tt.skipped)
			}
			if got := errorStrings(res.Errors); !reflect.DeepEqual(got, nonNil(tt.errs)) {
				t.Errorf("errors:\n got %q\nwant %q", got, tt.errs)
			}
		})
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func TestReadErrorDetails(t *testing.T) {
	tests := []struct {
		name string
		path string
		idx  int
		want DocError
		is   error
	}{
		{
			name: "missing image carries source, document, object and field",
			path: "testdata/invalid.yaml", idx: 1,
			want: DocError{Source: "testdata/invalid.yaml", Document: 2, Object: "CronJob nightly",
				Field: "spec.jobTemplate.spec.template.spec.initContainers[0].image"},
			is: ErrNoImage,
		},
		{
			name: "no containers",
			path: "testdata/invalid.yaml", idx: 0,
			want: DocError{Source: "testdata/invalid.yaml", Document: 1, Object: "Deployment default/empty",
				Field: "spec.template.spec.containers"},
			is: ErrNoContainers,
		},
		{
			name: "type mismatch",
			path: "testdata/invalid.yaml", idx: 3,
			want: DocError{Source: "testdata/invalid.yaml", Document: 3, Object: "StatefulSet typo",
				Field: "spec.template.spec.containers"},
			is: ErrWrongType,
		},
		{
			name: "missing kind",
			path: "testdata/invalid.yaml", idx: 4,
			want: DocError{Source: "testdata/invalid.yaml", Document: 4, Field: "kind"},
			is:   ErrRequired,
		},
		{
			name: "list item",
			path: "testdata/list.yaml", idx: 0,
			want: DocError{Source: "testdata/list.yaml", Document: 1, Item: 3, Object: "Pod broken",
				Field: "spec.containers[0].image"},
			is: ErrNoImage,
		},
		{
			name: "nonexistent path",
			path: "testdata/nope.yaml", idx: 0,
			want: DocError{Source: "testdata/nope.yaml"},
			is:   fs.ErrNotExist,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Read([]string{tt.path}, nil)
			if len(res.Errors) <= tt.idx {
				t.Fatalf("got %d errors, want more than %d", len(res.Errors), tt.idx)
			}
			e := res.Errors[tt.idx]
			if !errors.Is(e, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", e, tt.is)
			}
			got := *e
			got.Err = nil
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestReadPodDetails(t *testing.T) {
	tests := []struct {
		name string
		path string
		want policy.PodSpec
	}{
		{
			name: "automount false, legacy secret volume, projected tokens (one volume per source), configMap dropped",
			path: "testdata/tokens.yaml",
			want: policy.PodSpec{
				AutomountServiceAccountToken: ptr(false),
				Containers: []policy.Container{{
					Name: "app", Image: "app:1", Kind: policy.ContainerRegular,
					VolumeMounts: []policy.VolumeMount{
						{Name: "legacy", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"},
						{Name: "projected", MountPath: "/var/run/secrets/tokens"},
					},
				}},
				Volumes: []policy.Volume{
					{Name: "legacy", SecretName: "default-token-x7k2p"},
					{Name: "projected", ServiceAccountToken: &policy.ProjectedToken{
						Path: "vault-token", Audience: "vault", ExpirationSeconds: ptr(int64(7776001))}},
					{Name: "projected", ServiceAccountToken: &policy.ProjectedToken{Path: "token"}},
				},
			},
		},
		{
			name: "pod: service account, projected token with expirationSeconds, every container kind",
			path: "testdata/kinds/pod.yaml",
			want: policy.PodSpec{
				ServiceAccountName: "web-sa",
				Containers: []policy.Container{
					{Name: "migrate", Image: "ghcr.io/acme/migrate:2.0", Kind: policy.ContainerInit},
					{Name: "web", Image: "ghcr.io/acme/web:1.4", Kind: policy.ContainerRegular,
						VolumeMounts: []policy.VolumeMount{{Name: "token", MountPath: "/var/run/secrets/tokens"}}},
					{Name: "debugger", Image: "busybox:1.36", Kind: policy.ContainerEphemeral},
				},
				Volumes: []policy.Volume{{Name: "token", ServiceAccountToken: &policy.ProjectedToken{
					Path: "token", Audience: "vault", ExpirationSeconds: ptr(int64(3600))}}},
			},
		},
		{
			name: "cronjob template says automountServiceAccountToken: false",
			path: "testdata/kinds/cronjob.yaml",
			want: policy.PodSpec{
				AutomountServiceAccountToken: ptr(false),
				Containers: []policy.Container{
					{Name: "report", Image: "ghcr.io/acme/report:3.1", Kind: policy.ContainerRegular},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Read([]string{tt.path}, nil)
			if len(res.Errors) != 0 || len(res.Workloads) != 1 {
				t.Fatalf("got %d workloads, errors %q; want 1 workload", len(res.Workloads), errorStrings(res.Errors))
			}
			if got := res.Workloads[0].Pod; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("pod:\n got %s\nwant %s", dumpPod(got), dumpPod(tt.want))
			}
		})
	}
}

func TestReadStdin(t *testing.T) {
	tests := []struct {
		name  string
		paths []string
		stdin string
		want  []string
		errs  []string
	}{
		{
			name:  "dash reads stdin, source is -",
			paths: []string{"-"},
			stdin: "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns}\nspec:\n  containers: [{name: c, image: 'c:1'}]\n---\nkind: Pod\n",
			want:  []string{"v1 Pod ns/p -#1.0 [regular c=c:1]"},
			errs:  []string{"-: document 2 (Pod): apiVersion: required value"},
		},
		{
			name:  "stdin between files keeps path order",
			paths: []string{"testdata/tree/a.yaml", "-", "testdata/tree/sub/b.yml"},
			stdin: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"s"},"spec":{"containers":[{"name":"s","image":"s:1"}]}}`,
			want: []string{
				"v1 Pod /a testdata/tree/a.yaml#1.0 [regular a=a:1]",
				"v1 Pod /s -#1.0 [regular s=s:1]",
				"batch/v1 Job /b testdata/tree/sub/b.yml#1.0 [regular b=b:1]",
			},
		},
		{
			name:  "empty stdin is no error",
			paths: []string{"-"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Read(tt.paths, strings.NewReader(tt.stdin))
			if got := describeAll(res.Workloads); !reflect.DeepEqual(got, nonNil(tt.want)) {
				t.Errorf("workloads:\n got %q\nwant %q", got, tt.want)
			}
			if got := errorStrings(res.Errors); !reflect.DeepEqual(got, nonNil(tt.errs)) {
				t.Errorf("errors:\n got %q\nwant %q", got, tt.errs)
			}
		})
	}
	t.Run("no stdin reader", func(t *testing.T) {
		res := Read([]string{"-"}, nil)
		if got := errorStrings(res.Errors); !reflect.DeepEqual(got, []string{"-: no standard input"}) {
			t.Errorf("errors = %q", got)
		}
	})
}

func TestDecodeStreams(t *testing.T) {
	pod := func(name string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name + "}\nspec: {containers: [{name: c, image: 'i:1'}]}\n"
	}
	tests := []struct {
		name  string
		input string
		want  []string
		errs  []string
	}{
		{
			name:  "CRLF line endings and separators",
			input: strings.ReplaceAll(pod("a")+"---\n"+pod("b"), "\n", "\r\n"),
			want:  []string{"v1 Pod /a s#1.0 [regular c=i:1]", "v1 Pod /b s#2.0 [regular c=i:1]"},
		},
		{
			name:  "byte-order mark, no final newline",
			input: "\xef\xbb\xbf" + strings.TrimSuffix(pod("a"), "\n"),
			want:  []string{"v1 Pod /a s#1.0 [regular c=i:1]"},
		},
		{
			name:  "---- and ---x are content, not separators",
			input: pod("a") + "----\n",
			errs:  []string{"s: document 1: yaml: line 6: could not find expected ':'"},
		},
		{
			name:  "flow mapping starting with { is YAML, not JSON",
			input: "{apiVersion: v1, kind: Pod, metadata: {name: f}, spec: {containers: [{name: c, image: 'i:1'}]}}\n",
			want:  []string{"v1 Pod /f s#1.0 [regular c=i:1]"},
		},
		{
			name:  "JSON then YAML after a separator",
			input: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"j"},"spec":{"containers":[{"name":"c","image":"i:1"}]}}` + "\n---\n" + pod("ya"),
			want:  []string{"v1 Pod /j s#1.0 [regular c=i:1]", "v1 Pod /ya s#2.0 [regular c=i:1]"},
		},
		{
			name:  "YAML 1.1 booleans: name: y is a type error",
			input: pod("y"),
			errs:  []string{"s: document 1: metadata.name: wrong type: got bool, want string"},
		},
		{
			name:  "fields are case-sensitive like the API server: Image is unknown",
			input: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, Image: 'i:1'}]}\n",
			errs:  []string{"s: document 1 (Pod p): spec.containers[0].image: container has no image"},
		},
		{
			name:  "bad quantity is a document error",
			input: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: 'i:1', resources: {limits: {cpu: lots}}}]}\n",
			errs:  []string{"s: document 1 (Pod p): quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"},
		},
		{
			name:  "metadata of the wrong type",
			input: "apiVersion: v1\nkind: Pod\nmetadata: [a]\n",
			errs:  []string{"s: document 1: metadata: wrong type: got array, want object"},
		},
		{
			name:  "List items of the wrong type",
			input: "apiVersion: v1\nkind: List\nitems: 3\n",
			errs:  []string{"s: document 1 (List): items: wrong type: got number, want array"},
		},
		{
			name:  "empty List and null document",
			input: "apiVersion: v1\nkind: List\nitems: []\n---\nnull\n",
		},
		{
			name:  "ReplicationController without template has no containers",
			input: "apiVersion: v1\nkind: ReplicationController\nmetadata: {name: rc}\nspec: {replicas: 1}\n",
			errs:  []string{"s: document 1 (ReplicationController rc): spec.template.spec.containers: workload has no containers"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Decode("s", strings.NewReader(tt.input))
			if got := describeAll(res.Workloads); !reflect.DeepEqual(got, nonNil(tt.want)) {
				t.Errorf("workloads:\n got %q\nwant %q", got, tt.want)
			}
			if got := errorStrings(res.Errors); !reflect.DeepEqual(got, nonNil(tt.errs)) {
				t.Errorf("errors:\n got %q\nwant %q", got, tt.errs)
			}
		})
	}
}

func TestDecodeTooLarge(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("apiVersion: v1\nkind: ConfigMap\ndata:\n  big: ")
	b.Write(bytes.Repeat([]byte("x"), MaxDocumentSize))
	b.WriteString("\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: after}\nspec: {containers: [{name: c, image: 'i:1'}]}\n")
	res := Decode("big.yaml", &b)
	if got, want := errorStrings(res.Errors), []string{"big.yaml: document 1: document too large: over 16 MiB"}; !reflect.DeepEqual(got, want) {
		t.Errorf("errors = %q, want %q", got, want)
	}
	if got, want := describeAll(res.Workloads), []string{"v1 Pod /after big.yaml#2.0 [regular c=i:1]"}; !reflect.DeepEqual(got, want) {
		t.Errorf("workloads = %q, want %q", got, want)
	}
}

type failingReader struct{ data []byte }

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, errors.New("disk on fire")
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestDecodeReadError(t *testing.T) {
	in := "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, image: 'i:1'}]}\n---\nkind: Po"
	res := Decode("r", &failingReader{data: []byte(in)})
	if got, want := describeAll(res.Workloads), []string{"v1 Pod /a r#1.0 [regular c=i:1]"}; !reflect.DeepEqual(got, want) {
		t.Errorf("workloads = %q, want %q", got, want)
	}
	if got, want := errorStrings(res.Errors), []string{"r: document 2: read: disk on fire (the rest of the input was not read)"}; !reflect.DeepEqual(got, want) {
		t.Errorf("errors = %q, want %q", got, want)
	}
}

func TestReadDirectoryErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ok.yaml"), []byte("apiVersion: v1\nkind: Service\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "gone.yaml"), filepath.Join(dir, "dangling.yaml")); err != nil {
		t.Skip("symlinks not supported:", err)
	}
	if err := os.Symlink(dir, filepath.Join(dir, "loop.yaml")); err != nil {
		t.Fatal(err)
	}
	res := Read([]string{dir}, nil)
	want := []string{filepath.Join(dir, "dangling.yaml") + ": no such file or directory"}
	if got := errorStrings(res.Errors); !reflect.DeepEqual(got, want) {
		t.Errorf("errors = %q, want %q", got, want)
	}
	if !reflect.DeepEqual(res.Skipped, map[string]int{"Service": 1}) {
		t.Errorf("skipped = %v", res.Skipped)
	}
}

func BenchmarkDecode(b *testing.B) {
	data, err := os.ReadFile("testdata/kinds/deployment.yaml")
	if err != nil {
		b.Fatal(err)
	}
	stream := bytes.Repeat(append(data, "---\n"...), 100)
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		res := Decode("bench.yaml", bytes.NewReader(stream))
		if len(res.Workloads) != 100 {
			b.Fatalf("got %d workloads", len(res.Workloads))
		}
	}
}
