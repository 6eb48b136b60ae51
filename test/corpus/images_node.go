package corpus

// nodeImages are the npm layouts: plain, nested, pnpm, ranges only, and
// a package removed by a whiteout or an opaque directory.
func (b *builder) nodeImages() []Image {
	const kube = "@kubernetes/client-node"
	var imgs []Image

	l := newTarLayer()
	l.file("/app/package.json", 0o644, packageJSON("kube-app", "1.0.0", map[string]string{kube: "^0.10.2"}))
	l.file("/app/index.js", 0o644, []byte("const k8s = require('@kubernetes/client-node');\n"))
	w := b.npm(l, kube, "0.10.2", "/app/node_modules/@kubernetes/client-node")
	imgs = append(imgs, Image{
		Name: "node/client-node-0.10.2", Image: b.image(oci, amd64, []string{"node", "/app/index.js"}, b.layers(oci, l)...),
		Want: []WantPackage{w},
		Note: "client-node 0.10.2, one below the minimum; the app's package.json asks for ^0.10.2",
	})

	l = newTarLayer()
	w = b.npm(l, kube, "0.10.3", "/usr/src/app/node_modules/@kubernetes/client-node")
	l.file("/usr/src/app/package.json", 0o644, packageJSON("kube-app", "1.0.0", map[string]string{kube: "0.10.3"}))
	imgs = append(imgs, Image{
		Name: "node/client-node-0.10.3", Image: b.image(docker, amd64, []string{"node", "/usr/src/app"}, b.layers(docker, l)...),
		Want: []WantPackage{w},
		Note: "client-node at the documented minimum 0.10.3",
	})

	l = newTarLayer()
	l.file("/app/package.json", 0o644, packageJSON("kube-bundle", "3.1.0", map[string]string{kube: "^1.4.0", "aws-sdk": "^2.1550.0"}))
	l.file("/app/dist/bundle.js", 0o644, []byte("/* webpack bundle: dependencies inlined, no node_modules */\n"))
	imgs = append(imgs, Image{
		Name: "node/ranges-only", Image: b.image(docker, amd64, []string{"node", "/app/dist/bundle.js"}, b.layers(docker, l)...),
		Absent: []WantPackage{
			npmPackage(kube, "1.4.0", "/app/package.json"),
			npmPackage("aws-sdk", "2.1550.0", "/app/package.json"),
		},
		Note: "an app's package.json with version ranges and nothing installed (a bundled app): a range is not an installed version",
	})

	l = newTarLayer()
	l.file("/app/package.json", 0o644, packageJSON("kube-app", "1.0.0", map[string]string{kube: "^0.10.3", "kube-operator-kit": "^2.0.0"}))
	top := b.npm(l, kube, "0.10.3", "/app/node_modules/@kubernetes/client-node")
	l.file("/app/node_modules/kube-operator-kit/package.json", 0o644, packageJSON("kube-operator-kit", "2.0.0", map[string]string{kube: "1.4.0"}))
	nested := b.npm(l, kube, "1.4.0", "/app/node_modules/kube-operator-kit/node_modules/@kubernetes/client-node")
	imgs = append(imgs, Image{
		Name: "node/nested", Image: b.image(oci, amd64, []string{"node", "/app"}, b.layers(oci, l)...),
		Want: []WantPackage{top, nested},
		Note: "two client-node versions: 0.10.3 at the top of node_modules, 1.4.0 nested under a dependency that pins it",
	})

	l = newTarLayer()
	l.file("/app/package.json", 0o644, packageJSON("kube-app", "1.0.0", map[string]string{kube: "^1.4.0", "aws-sdk": "^2.524.0"}))
	l.file("/app/node_modules/.modules.yaml", 0o644, []byte("layoutVersion: 5\nnodeLinker: isolated\npackageManager: pnpm@8.15.1\nstoreDir: /root/.local/share/pnpm/store/v3\nvirtualStoreDir: .pnpm\n"))
	pnpmKube := b.npm(l, kube, "1.4.0", "/app/node_modules/.pnpm/@kubernetes+client-node@1.4.0/node_modules/@kubernetes/client-node")
	l.symlink("/app/node_modules/@kubernetes/client-node", "../.pnpm/@kubernetes+client-node@1.4.0/node_modules/@kubernetes/client-node")
	pnpmAWS := b.npm(l, "aws-sdk", "2.524.", "/app/node_modules/.pnpm/aws-sdk@2.524.0/node_modules/aws-sdk")
	l.symlink("/app/node_modules/aws-sdk", ".pnpm/aws-sdk@2.524.0/node_modules/aws-sdk")
	imgs = append(imgs, Image{
		Name: "node/pnpm", Image: b.image(oci, amd64, []string{"node", "/app"}, b.layers(oci, l)...),
		Want: []WantPackage{pnpmKube, pnpmAWS},
		Note: "pnpm's layout: packages in node_modules/.pnpm/NAME@VERSION/node_modules/NAME, symbolic links from node_modules/NAME (each package once, not once per link)",
	})

	l = newTarLayer()
	w = b.npm(l, "aws-sdk", "2.1550.", "/app/node_modules/aws-sdk")
	l.file("/app/package.json", 0o644, packageJSON("s3-app", "1.0.0", map[string]string{"aws-sdk": "^2.1550.0"}))
	imgs = append(imgs, Image{
		Name: "node/aws-sdk-2.1550.0", Image: b.image(docker, amd64, []string{"node", "/app"}, b.layers(docker, l)...),
		Want: []WantPackage{w},
		Note: "the AWS SDK for JavaScript v2 at 2.1550.0 (EKS Pod Identity's minimum; 95 MB unpacked)",
	})

	// rm -rf the old client, then install the new one: three layers.
	l1 := newTarLayer()
	l1.file("/app/package.json", 0o644, packageJSON("kube-app", "1.0.0", map[string]string{kube: "^1.4.0"}))
	old := b.npm(l1, kube, "0.10.2", "/app/node_modules/@kubernetes/client-node")
	l2 := newTarLayer()
	l2.whiteout("/app/node_modules/@kubernetes/client-node")
	l3 := newTarLayer()
	w = b.npm(l3, kube, "1.4.0", "/app/node_modules/@kubernetes/client-node")
	imgs = append(imgs, Image{
		Name:   "node/whiteout",
		Image:  b.image(docker, amd64, []string{"node", "/app"}, b.layers(docker, l1, l2, l3)...),
		Want:   []WantPackage{w},
		Absent: []WantPackage{old},
		Note:   "client-node 0.10.2 in layer 1, deleted by a whiteout (.wh.client-node) in layer 2, 1.4.0 installed at the same path in layer 3",
	})

	// A later layer replaces the whole node_modules folder.
	l1 = newTarLayer()
	oldKube := b.npm(l1, kube, "0.10.2", "/app/node_modules/@kubernetes/client-node")
	oldAWS := b.npm(l1, "aws-sdk", "2.524.", "/app/node_modules/aws-sdk")
	l2 = newTarLayer()
	l2.opaque("/app/node_modules")
	w = b.npm(l2, kube, "0.10.3", "/app/node_modules/@kubernetes/client-node")
	imgs = append(imgs, Image{
		Name:   "node/opaque",
		Image:  b.image(oci, amd64, []string{"node", "/app"}, b.layers(oci, l1, l2)...),
		Want:   []WantPackage{w},
		Absent: []WantPackage{oldKube, oldAWS},
		Note:   "layer 1 has client-node 0.10.2 and aws-sdk 2.524.0; layer 2 makes /app/node_modules opaque (.wh..wh..opq) and puts client-node 0.10.3 there",
	})
	return imgs
}
