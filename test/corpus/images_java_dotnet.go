package corpus

// javaImages are a Spring Boot fat jar and a plain jar without Maven
// metadata.
func (b *builder) javaImages() []Image {
	libs := []bootLib{
		{"io.kubernetes", "client-java", "8.0.2", []string{"io/kubernetes/client/util/Config.class", "io/kubernetes/client/util/ClientBuilder.class"}},
		{"io.kubernetes", "client-java-api", "8.0.2", []string{"io/kubernetes/client/openapi/ApiClient.class"}},
		{"software.amazon.awssdk", "auth", "2.21.29", []string{"software/amazon/awssdk/auth/credentials/AwsCredentialsProvider.class"}},
		{"org.yaml", "snakeyaml", "1.33", []string{"org/yaml/snakeyaml/Yaml.class"}},
	}
	jar, err := springBootJar("com.example", "demo", "0.0.1-SNAPSHOT", libs)
	b.must(err)
	l := newTarLayer()
	l.file("/app/app.jar", 0o644, jar)
	var want []WantPackage
	for _, lib := range libs[:3] {
		want = append(want, WantPackage{Type: "maven", Namespace: lib.group, Name: lib.artifact, Version: lib.version,
			Path: "/app/app.jar!/BOOT-INF/lib/" + lib.artifact + "-" + lib.version + ".jar"})
	}
	boot := Image{
		Name:  "java/spring-boot",
		Image: b.image(oci, amd64, []string{"java", "-jar", "/app/app.jar"}, b.layers(oci, l)...),
		Want:  want,
		Note:  "a Spring Boot fat jar: client-java and client-java-api 8.0.2 (below 9.0.0) and software.amazon.awssdk:auth 2.21.29 as stored jars in BOOT-INF/lib, each with its pom.properties",
	}

	plain, err := mavenJar("io.kubernetes", "client-java", "9.0.0", false, "io/kubernetes/client/util/Config.class")
	b.must(err)
	l = newTarLayer()
	const path = "/opt/app/lib/client-java-9.0.0.jar"
	l.file(path, 0o644, plain)
	lib := Image{
		Name:  "java/lib-no-pom",
		Image: b.image(docker, amd64, []string{"java", "-cp", "/opt/app/lib/*", "Main"}, b.layers(docker, l)...),
		Want:  []WantPackage{{Type: "maven", Namespace: "io.kubernetes", Name: "client-java", Version: "9.0.0", Path: path}},
		Note:  "client-java 9.0.0 as a plain jar without pom.properties: only the manifest (Implementation-Title/-Version) and the file name say what it is; the group is known from the build, not from the jar",
	}
	return []Image{boot, lib}
}

// dotnetImage is a published .NET app: its deps.json names the NuGet
// packages.
func (b *builder) dotnetImage() Image {
	libs := []nugetLib{
		{name: "KubernetesClient", version: "7.0.4", dll: "lib/net6.0/KubernetesClient.dll", assemblyVersion: "7.0.0.0",
			deps: map[string]string{"Fractions": "7.0.0", "YamlDotNet": "11.2.1"}},
		{name: "Fractions", version: "7.0.0", dll: "lib/netstandard2.1/Fractions.dll", assemblyVersion: "7.0.0.0"},
		{name: "YamlDotNet", version: "11.2.1", dll: "lib/netstandard2.1/YamlDotNet.dll", assemblyVersion: "11.0.0.0"},
		{name: "AWSSDK.Core", version: "3.7.300.29", dll: "lib/netcoreapp3.1/AWSSDK.Core.dll", assemblyVersion: "3.3.0.0"},
	}
	deps, err := depsJSON("app", libs)
	b.must(err)
	l := newTarLayer()
	l.file("/app/app.deps.json", 0o644, deps)
	l.file("/app/app.runtimeconfig.json", 0o644, []byte("{\n  \"runtimeOptions\": {\n    \"tfm\": \"net6.0\",\n    \"framework\": {\n      \"name\": \"Microsoft.NETCore.App\",\n      \"version\": \"6.0.0\"\n    }\n  }\n}\n"))
	return Image{
		Name:  "dotnet/app",
		Image: b.image(oci, amd64, []string{"dotnet", "/app/app.dll"}, b.layers(oci, l)...),
		Want: []WantPackage{
			{Type: "nuget", Name: "KubernetesClient", Version: "7.0.4", Path: "/app/app.deps.json"},
			{Type: "nuget", Name: "AWSSDK.Core", Version: "3.7.300.29", Path: "/app/app.deps.json"},
		},
		Note: "a .NET 6 app's app.deps.json with KubernetesClient 7.0.4 (below 7.0.5) and AWSSDK.Core 3.7.300.29 (below 3.7.302); no DLLs on disk",
	}
}
