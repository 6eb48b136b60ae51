package scale

import (
	"fmt"
	"hash/fnv"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// fleet is what one measured size puts in the cluster: an EKS-like
// cluster of pods/100 nodes whose kube-system runs the aws-node, kube-proxy
// and aws-for-fluent-bit DaemonSets (a pod per node) and CoreDNS (2 pods),
// and whose team namespaces run applications of 10 pods each: Deployments
// (one in twenty mid-rollout, with two ReplicaSets), StatefulSets and
// CronJobs (two Jobs of 5 pods), a fifth of them with a sidecar, a quarter
// running as an IRSA service account. Every image of the pool runs.
type fleet struct {
	nodes      int
	namespaces []string // team namespaces (kube-system exists)
	accounts   []account
	workloads  []workload
	// images is the pool: every image reference the fleet runs, each at
	// least once.
	images []string
	// pushed are the pool's images on the test registry, with an SBOM.
	pushed []pushedImage
}

type account struct {
	namespace, name string
	roleARN         string // eks.amazonaws.com/role-arn, "" without IRSA
}

type pushedImage struct {
	repo, tag string
	purls     []string
}

// Workload kinds as the fleet creates them.
const (
	kindDeployment  = "Deployment"
	kindDaemonSet   = "DaemonSet"
	kindStatefulSet = "StatefulSet"
	kindCronJob     = "CronJob"
)

type workload struct {
	kind, namespace, name string
	serviceAccount        string
	irsa                  bool
	// templates are a Deployment's ReplicaSets (the last is the newest)
	// or a CronJob's Jobs; DaemonSets and StatefulSets have one, their
	// controller revision.
	templates []template
}

type template struct {
	// name is the ReplicaSet's or Job's; hash its pod-template-hash or
	// the controller revision.
	name, hash string
	images     []string // the app container's, then the sidecar's
	pods       int
	// nodes spreads the pods: pod i runs on node (firstNode+i) % nodes.
	firstNode int
}

// pods is the number of pods of the workload.
func (w *workload) pods() int {
	n := 0
	for _, t := range w.templates {
		n += t.pods
	}
	return n
}

// podsPerApp is the size of each application workload.
const podsPerApp = 10

// planFleet lays out a fleet of pods over images distinct image
// references (at least 40, and some 8 pods an image so that every image
// has a container to run in: an error says when not); host is the test
// registry's, where a tenth of the images live with an SBOM. Everything
// else is named by tag only: catalogued add-ons (a tenth: VPC CNI,
// kube-proxy, AWS for Fluent Bit, CoreDNS, old and new versions) and
// application images with no evidence (the rest). The same arguments give
// the same fleet.
func planFleet(pods, images int, host string) (*fleet, error) {
	if images < 40 {
		return nil, fmt.Errorf("at least 40 images, not %d", images)
	}
	f := &fleet{nodes: max(pods/100, 1)}
	for j := 0; j < images; j++ {
		ref, push := poolImage(j, host)
		f.images = append(f.images, ref)
		if push != nil {
			f.pushed = append(f.pushed, *push)
		}
	}
	for i := 0; i < max(pods/500, 2); i++ {
		ns := fmt.Sprintf("team-%02d", i)
		f.namespaces = append(f.namespaces, ns)
		f.accounts = append(f.accounts, account{namespace: ns, name: "app"},
			account{namespace: ns, name: "app-irsa", roleARN: fmt.Sprintf("arn:aws:iam::111122223333:role/%s-app", ns)})
	}
	f.accounts = append(f.accounts,
		account{namespace: "kube-system", name: "aws-node", roleARN: "arn:aws:iam::111122223333:role/AmazonEKSVPCCNIRole"},
		account{namespace: "kube-system", name: "kube-proxy"},
		account{namespace: "kube-system", name: "fluent-bit"},
		account{namespace: "kube-system", name: "coredns"})

	// kube-system: the pool's images 1, 11, 21, 31 are a VPC CNI,
	// kube-proxy, AWS for Fluent Bit and CoreDNS (poolImage).
	for i, ds := range []struct{ name, sa string }{{"aws-node", "aws-node"}, {"kube-proxy", "kube-proxy"}, {"fluent-bit", "fluent-bit"}} {
		f.workloads = append(f.workloads, workload{kind: kindDaemonSet, namespace: "kube-system", name: ds.name, serviceAccount: ds.sa, irsa: ds.sa == "aws-node",
			templates: []template{{name: ds.name, hash: safeHash(ds.name, 10), images: []string{f.images[1+10*i]}, pods: f.nodes}}})
	}
	f.workloads = append(f.workloads, workload{kind: kindDeployment, namespace: "kube-system", name: "coredns", serviceAccount: "coredns",
		templates: []template{{name: "coredns-" + safeHash("coredns", 10), hash: safeHash("coredns", 10), images: []string{f.images[31]}, pods: 2}}})

	left := pods - 3*f.nodes - 2
	if left < podsPerApp {
		return nil, fmt.Errorf("%d pods leave no room for applications beside kube-system's %d", pods, pods-left)
	}
	slot := 0 // the next container's image: f.images[slot % images]
	next := func() string {
		s := f.images[slot%images]
		slot++
		return s
	}
	for w := 0; left > 0; w++ {
		n := min(podsPerApp, left)
		left -= n
		ns := f.namespaces[w%len(f.namespaces)]
		wl := workload{kind: kindDeployment, namespace: ns, name: fmt.Sprintf("svc-%04d", w), serviceAccount: "app"}
		if w%4 == 1 {
			wl.serviceAccount, wl.irsa = "app-irsa", true
		}
		sidecar := w%5 == 0
		tmpl := func(name string, pods int) template {
			t := template{name: name, hash: safeHash(name, 10), images: []string{next()}, pods: pods, firstNode: w}
			if sidecar {
				t.images = append(t.images, next())
			}
			return t
		}
		switch w % 20 {
		case 19:
			wl.kind, wl.name = kindStatefulSet, fmt.Sprintf("db-%04d", w)
			wl.templates = []template{tmpl(wl.name, n)}
			wl.templates[0].name = wl.name
		case 13:
			wl.kind, wl.name = kindCronJob, fmt.Sprintf("batch-%04d", w)
			wl.templates = []template{tmpl(fmt.Sprintf("%s-%d", wl.name, 29000000+w), n/2)}
			if n-n/2 > 0 {
				wl.templates = append(wl.templates, tmpl(fmt.Sprintf("%s-%d", wl.name, 29000060+w), n-n/2))
			}
			if wl.templates[0].pods == 0 {
				wl.templates = wl.templates[1:]
			}
		case 7:
			old := tmpl(wl.name+"-"+safeHash(wl.name+"/old", 10), n/2)
			cur := tmpl(wl.name+"-"+safeHash(wl.name, 10), n-n/2)
			wl.templates = []template{cur}
			if old.pods > 0 {
				wl.templates = []template{old, cur}
			}
		default:
			wl.templates = []template{tmpl(wl.name+"-"+safeHash(wl.name, 10), n)}
		}
		f.workloads = append(f.workloads, wl)
	}
	if slot < images {
		return nil, fmt.Errorf("%d pods give %d containers for %d images: some images would not run", pods, slot, images)
	}
	return f, nil
}

// Add-on images of the pool by (j/10)%4, versions old and new; catalogued
// by path on any host (pkg/policy/catalog.yaml).
var addons = []struct {
	repo     string
	versions []string
}{
	{"amazon-k8s-cni", []string{"v1.7.5-eksbuild.1", "v1.12.6-eksbuild.2", "v1.18.3-eksbuild.1", "v1.10.4-eksbuild.1"}},
	{"eks/kube-proxy", []string{"v1.37.2-eksbuild.1", "v1.24.17-eksbuild.3", "v1.35.1-eksbuild.2", "v1.30.0-eksbuild.3"}},
	{"aws-observability/aws-for-fluent-bit", []string{"2.31.12", "2.21.1", "2.28.4", "2.32.0"}},
	{"coredns/coredns", []string{"1.11.1", "1.8.3", "1.10.1-eksbuild.4", "1.8.0", "1.9.3"}},
}

// client-go versions in the pushed images' SBOMs: one in four too old.
var clientGoVersions = []string{"v0.14.2", "v0.28.4", "v0.21.3", "v0.30.1"}

// poolImage is the pool's image j and, for a tenth of them, what to push
// to the test registry at host.
func poolImage(j int, host string) (string, *pushedImage) {
	switch j % 10 {
	case 0:
		k := j / 10
		p := &pushedImage{repo: fmt.Sprintf("team-%02d/api-%d", k%20, k), tag: fmt.Sprintf("1.0.%d", k)}
		p.purls = append(p.purls, "pkg:golang/k8s.io/client-go@"+clientGoVersions[k%len(clientGoVersions)])
		if k%3 == 0 {
			// Too old for IRSA: a finding where the workload uses it.
			p.purls = append(p.purls, "pkg:golang/github.com/aws/aws-sdk-go@v1.19.0")
		} else {
			p.purls = append(p.purls, "pkg:golang/github.com/aws/aws-sdk-go@v1.55.5")
		}
		// What else an SBOM lists: not catalogued, not kept.
		for d := 0; d < 30; d++ {
			p.purls = append(p.purls, fmt.Sprintf("pkg:golang/github.com/example/dep-%d@v1.%d.%d", d, k%7, d))
		}
		return host + "/" + p.repo + ":" + p.tag, p
	case 1:
		k := j / 10
		a := addons[k%len(addons)]
		return fmt.Sprintf("602401143452.dkr.ecr.us-west-2.amazonaws.com/mirror-%03d/%s:%s", k, a.repo, a.versions[(k/len(addons))%len(a.versions)]), nil
	}
	return fmt.Sprintf("registry.example/team-%02d/app-%d:1.2.%d", j%20, j, j%50), nil
}

// safeHash is n characters derived from s in the alphabet Kubernetes uses
// for pod-template-hash and generated name suffixes.
func safeHash(s string, n int) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	v := h.Sum64()
	out := make([]byte, n)
	for i := range out {
		out[i] = alphabet[v%uint64(len(alphabet))]
		v /= uint64(len(alphabet))
		if v == 0 {
			v = h.Sum64() + uint64(i)*0x9e3779b97f4a7c15
		}
	}
	return string(out)
}

// TestPlanFleet: the planned fleets have the pods and images asked for,
// every image runs, a tenth is pushed with an SBOM, and names are unique
// as the API server needs.
func TestPlanFleet(t *testing.T) {
	for _, tc := range []struct {
		name                        string
		pods, images, wantWorkloads int
	}{
		{"2,000 pods, 200 images", 2000, 200, 198},
		{"10,000 pods, 1,000 images", 10000, 1000, 974},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := planFleet(tc.pods, tc.images, "127.0.0.1:5000")
			if err != nil {
				t.Fatal(err)
			}
			if len(f.workloads) != tc.wantWorkloads {
				t.Errorf("%d workloads, want %d", len(f.workloads), tc.wantWorkloads)
			}
			pods, used := 0, map[string]bool{}
			workloads, podNames := map[string]bool{}, map[string]bool{}
			for i := range f.workloads {
				w := &f.workloads[i]
				key := w.namespace + "/" + w.kind + "/" + w.name
				if workloads[key] {
					t.Errorf("workload %s twice", key)
				}
				workloads[key] = true
				for j := range w.templates {
					tm := &w.templates[j]
					for _, img := range tm.images {
						used[img] = true
					}
					for p := 0; p < tm.pods; p++ {
						pod := f.pod(w, tm, metav1.OwnerReference{UID: "u"}, p)
						if podNames[pod.Namespace+"/"+pod.Name] {
							t.Errorf("pod %s/%s twice", pod.Namespace, pod.Name)
						}
						podNames[pod.Namespace+"/"+pod.Name] = true
						pods++
					}
				}
			}
			if pods != tc.pods {
				t.Errorf("%d pods, want %d", pods, tc.pods)
			}
			if len(used) != tc.images || len(f.images) != tc.images {
				t.Errorf("%d images run of a pool of %d, want %d", len(used), len(f.images), tc.images)
			}
			if len(f.pushed) != tc.images/10 {
				t.Errorf("%d images pushed, want %d", len(f.pushed), tc.images/10)
			}
		})
	}
	if _, err := planFleet(200, 200, "h"); err == nil {
		t.Error("200 pods cannot run 200 images beside kube-system: want an error")
	}
}
