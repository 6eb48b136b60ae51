package filecat

import "testing"

func TestDotnetDeps(t *testing.T) {
	deps := readTestdata(t, "dotnet/KubeOperator.deps.json")
	const path = "/app/KubeOperator.deps.json"
	tests := []readCase{
		{name: "published application", content: deps, want: []Found{
			found(path, NameDotnetDeps, "nuget", "", "AWSSDK.Core", "3.7.302"),
			found(path, NameDotnetDeps, "nuget", "", "KubernetesClient", "7.0.4"),
		}},
		{name: "a project is not a package", content: []byte(`{"libraries": {"KubernetesClient/7.0.4": {"type": "project", "serviceable": false, "sha512": ""}}}`)},
		{name: "libraries before targets", content: []byte(`{"libraries": {"KubernetesClient/8.0.0": {"sha512": "", "type": "package"}}, "targets": {}}`),
			want: []Found{found(path, NameDotnetDeps, "nuget", "", "KubernetesClient", "8.0.0")}},
		{name: "no libraries", content: []byte(`{"runtimeTarget": {"name": ".NETCoreApp,Version=v6.0"}}`)},
		{name: "malformed", content: []byte(`{"libraries": {"KubernetesClient/7.0.4": {"type": "package",`), notes: 1},
		{name: "beyond the cap", content: deps, lim: Limits{MaxFileBytes: 1000}, notes: 1},
		{name: "odd values", content: []byte(`{"libraries": {"KubernetesClient/7.0.4": ["package"], "KubernetesClient": {"type": "package"}, "KubernetesClient/7.0.5": {"type": {"a": 1}}}}`)},
	}
	runReadCases(t, dotnetDeps{}, path, tests)
	for path, want := range map[string]bool{
		"/app/KubeOperator.deps.json": true, "/app/.deps.json": false, "/app/KubeOperator.runtimeconfig.json": false, "/app/deps.json": false,
	} {
		if got := (dotnetDeps{}).Wants(File{Path: path, Size: 10}); got != want {
			t.Errorf("Wants(%s) = %v, want %v", path, got, want)
		}
	}
}
