package scale

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/tokenguard/tokenguard/pkg/apis/tokenguard/v1alpha1"
	"github.com/tokenguard/tokenguard/pkg/reports"
	"github.com/tokenguard/tokenguard/test/e2e"
	"github.com/tokenguard/tokenguard/test/e2e/cluster"
)

// Settings from the environment (make controller-scale passes them on).
const (
	// envSizes lists the fleets, "pods:images,pods:images".
	envSizes     = "TOKENGUARD_SCALE_SIZES"
	defaultSizes = "2000:200,10000:1000"
	// envWriteQPS, when set, is the controller's --write-qps (its
	// --write-burst twice that); unset, the defaults (20 and 40).
	// (client-go's default client-side limit of 5 requests a second
	// caps them below --write-qps today: docs/benchmarks.md).
	envWriteQPS = "TOKENGUARD_SCALE_WRITE_QPS"
	// envControllerEnv adds "KEY=VALUE KEY=VALUE" to the controller's
	// environment only (GODEBUG=gctrace=1, GOMEMLIMIT=...).
	envControllerEnv = "TOKENGUARD_SCALE_CONTROLLER_ENV"
	// envWorkDir, when set, keeps each size's files (logs of the
	// controller and the control plane, etcd's data) in a folder there
	// (relative to the checkout's root).
	envWorkDir = "TOKENGUARD_SCALE_WORKDIR"
)

// peakGoalMB is issue #16's bound on the controller's peak RSS at 10,000
// pods.
const peakGoalMB = 150

// BenchmarkControllerScale runs `tokenguard controller` (built from this
// checkout, as make build does) against a real kube-apiserver holding a
// fleet (planFleet) per size, with registry evidence on: a tenth of the
// images on a local registry with an SBOM, the rest judged by tag.
//
// Per size, on a fresh control plane without kube-controller-manager:
//  1. cold: the controller starts on a cluster with no reports; measured
//     are the time from its start to every report written, its writes
//     (its own metric, the API server's request counts, and the Report
//     objects counted), registry requests, peak RSS (VmHWM) and CPU, and
//     the largest Report object (JSON bytes as the API server returns it);
//  2. steady: its second pass, which must write nothing;
//  3. restart: a new process on the same cluster, whose caches are cold
//     but whose reports and ImageEvidence objects exist: writes (none),
//     registry requests, peak RSS.
//
// Run with -benchtime=1x (make controller-scale). It skips with -short and
// when $TOKENGUARD_E2E_BIN is unset.
func BenchmarkControllerScale(b *testing.B) {
	if testing.Short() {
		b.Skip("starts a control plane and creates thousands of pods (skipped with -short)")
	}
	if os.Getenv(cluster.EnvBinDir) == "" {
		b.Skipf("$%s is unset (make controller-scale sets it from hack/e2e-binaries.sh)", cluster.EnvBinDir)
	}
	sizes, err := parseSizes(os.Getenv(envSizes))
	if err != nil {
		b.Fatal(err)
	}
	bin, err := buildTokenguard(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range sizes {
		b.Run(fmt.Sprintf("pods=%d_images=%d", s.pods, s.images), func(b *testing.B) { measure(b, bin, s) })
	}
}

type size struct{ pods, images int }

// parseSizes reads "pods:images,..."; empty is defaultSizes.
func parseSizes(s string) ([]size, error) {
	if s == "" {
		s = defaultSizes
	}
	var out []size
	for _, part := range strings.Split(s, ",") {
		p, i, ok := strings.Cut(strings.TrimSpace(part), ":")
		pods, err1 := strconv.Atoi(p)
		images, err2 := strconv.Atoi(i)
		if !ok || err1 != nil || err2 != nil || pods <= 0 || images <= 0 {
			return nil, fmt.Errorf("$%s: %q is not pods:images", envSizes, part)
		}
		out = append(out, size{pods, images})
	}
	return out, nil
}

// figures are one size's measurements.
type figures struct {
	pods, workloads, images, pushed int
	podJSONBytes                    float64 // mean, as the API server returns a pod

	// cold start
	toAllReports, toFirstWrite, synced, leading, firstPass time.Duration
	writes, apiWrites, reportObjects                       int
	registryRequests                                       int64
	peakRSSMB, rssMB, rssFileMB, cpuSeconds                float64
	evidenceWrites, evidenceObjects                        int
	largest, largestNoManagedFields                        int
	largestName                                            string
	goMemory                                               string // the Go runtime's view after the steady pass
	verdicts                                               map[string]float64

	// steady: the second pass of the same process
	steadyWrites, steadyAPIWrites int
	steadyRegistryRequests        int64

	// restart: a new process, reports and ImageEvidence in place
	restartPass                time.Duration
	restartWrites              int
	restartRegistryRequests    int64
	restartPeakRSSMB           float64
	restartHits, restartMisses float64
	restartEvidenceWrites      int
	restartCPUSeconds          float64

	// setup: creating the fleet
	setupCreate                 time.Duration
	setupOwners, setupPodWrites int64
}

func measure(b *testing.B, bin string, s size) {
	b.StopTimer()
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	e := setup(ctx, b, s, true)
	c, reg, f, work, logf := e.cluster, e.registry, e.fleet, e.work, e.logf
	fig := &figures{pods: s.pods, workloads: len(f.workloads), images: len(f.images), pushed: len(f.pushed),
		podJSONBytes: e.podJSONBytes, setupCreate: e.created, setupOwners: e.owners, setupPodWrites: e.podWrites}

	config := filepath.Join(work, "tokenguard.yaml")
	if err := os.WriteFile(config, fmt.Appendf(nil, "apiVersion: tokenguard.io/v1alpha1\nkind: TokenGuardConfiguration\n"+
		"registry:\n  enabled: true\n  timeout: 5s\n  registries: [%q]\n  insecureRegistries: [%q]\n", reg.Host, reg.Host), 0o644); err != nil {
		b.Fatal(err)
	}
	var extra []string
	if q := os.Getenv(envWriteQPS); q != "" {
		qps, err := strconv.Atoi(q)
		if err != nil || qps <= 0 {
			b.Fatalf("$%s=%q: want a positive integer", envWriteQPS, q)
		}
		extra = []string{"--write-qps", q, "--write-burst", strconv.Itoa(2 * qps)}
	}
	api, err := rest.HTTPClientFor(c.Config)
	if err != nil {
		b.Fatal(err)
	}
	dyn := dynamic.NewForConfigOrDie(c.Config)

	// 1. Cold start.
	logf("starting the controller (cold)")
	apiBefore := mustScrape(ctx, b, api, c.URL+"/metrics")
	regBefore := reg.Requests()
	addr, err := e2e.FreeAddr()
	if err != nil {
		b.Fatal(err)
	}
	a, err := startController(bin, c.Kubeconfig, config, addr, work, "controller-a", extra...)
	if err != nil {
		b.Fatal(err)
	}
	defer a.stop()
	b.StartTimer()
	if err := waitReports(ctx, a, fig); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	logf("all %d reports written %s after start", fig.workloads, fig.toAllReports.Round(10*time.Millisecond))
	p1, err := a.waitPass(ctx, 1)
	if err != nil {
		b.Fatal(err)
	}
	fig.registryRequests = reg.Requests() - regBefore
	fig.firstPass = p1.at
	fig.synced, _ = a.seen("caches synced; standing for leader")
	fig.leading, _ = a.seen("leadership")
	m1 := mustScrape(ctx, b, nil, "http://"+addr+"/metrics")
	api1 := mustScrape(ctx, b, api, c.URL+"/metrics")
	logf("pass 1: %+v", p1)

	// 2. Steady: the same process's second pass.
	p2, err := a.waitPass(ctx, 2)
	if err != nil {
		b.Fatal(err)
	}
	logf("pass 2: %+v", p2)
	fig.steadyRegistryRequests = reg.Requests() - regBefore - fig.registryRequests
	m2 := mustScrape(ctx, b, nil, "http://"+addr+"/metrics")
	api2 := mustScrape(ctx, b, api, c.URL+"/metrics")
	fig.writes = reportWrites(m1)
	fig.apiWrites = apiReportWrites(api1) - apiReportWrites(apiBefore)
	fig.steadyWrites = reportWrites(m2) - fig.writes
	fig.steadyAPIWrites = apiReportWrites(api2) - apiReportWrites(api1)
	fig.evidenceWrites = int(m2.sum("tokenguard_imageevidence_writes_total", `outcome=~"created|updated|deleted"`))
	mb := func(name string) float64 { return m2.sum(name) / (1 << 20) }
	fig.goMemory = fmt.Sprintf("heap in use %.1f MiB, heap idle %.1f MiB (%.1f MiB of it released to the OS), next GC at %.1f MiB, stacks %.1f MiB, all mapped %.1f MiB",
		mb("go_memstats_heap_inuse_bytes"), mb("go_memstats_heap_idle_bytes"), mb("go_memstats_heap_released_bytes"),
		mb("go_memstats_next_gc_bytes"), mb("go_memstats_stack_inuse_bytes"), mb("go_memstats_sys_bytes"))
	fig.verdicts = map[string]float64{}
	for _, v := range []string{"too-old", "unknown", "ok", "not-applicable"} {
		fig.verdicts[v] = m2.sum("tokenguard_workloads", `verdict="`+v+`"`)
	}
	st, err := procStatus(a.cmd.Process.Pid, "VmHWM", "VmRSS", "RssFile")
	if err != nil {
		b.Fatal(err)
	}
	fig.peakRSSMB, fig.rssMB, fig.rssFileMB = float64(st["VmHWM"])/1024, float64(st["VmRSS"])/1024, float64(st["RssFile"])/1024
	if fig.cpuSeconds, err = cpuSeconds(a.cmd.Process.Pid); err != nil {
		b.Fatal(err)
	}
	if err := readReports(ctx, dyn, fig); err != nil {
		b.Fatal(err)
	}
	ies, err := dyn.Resource(v1alpha1.ImageEvidenceResource).List(ctx, metav1.ListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	fig.evidenceObjects = len(ies.Items)
	a.stop()

	// 3. Restart: a new process, the cluster's reports and evidence in
	// place.
	logf("restarting the controller")
	regBefore = reg.Requests()
	if addr, err = e2e.FreeAddr(); err != nil {
		b.Fatal(err)
	}
	r, err := startController(bin, c.Kubeconfig, config, addr, work, "controller-b", extra...)
	if err != nil {
		b.Fatal(err)
	}
	defer r.stop()
	rp, err := r.waitPass(ctx, 1)
	if err != nil {
		b.Fatal(err)
	}
	logf("restart pass 1: %+v", rp)
	fig.restartPass = rp.at
	fig.restartRegistryRequests = reg.Requests() - regBefore
	mr := mustScrape(ctx, b, nil, "http://"+addr+"/metrics")
	fig.restartWrites = reportWrites(mr)
	fig.restartHits = mr.sum("tokenguard_imageevidence_lookups_total", `result="hit"`)
	fig.restartMisses = mr.sum("tokenguard_imageevidence_lookups_total", `result="miss"`)
	fig.restartEvidenceWrites = int(mr.sum("tokenguard_imageevidence_writes_total", `outcome=~"created|updated|deleted"`))
	if st, err = procStatus(r.cmd.Process.Pid, "VmHWM"); err != nil {
		b.Fatal(err)
	}
	fig.restartPeakRSSMB = float64(st["VmHWM"]) / 1024
	fig.restartCPUSeconds, _ = cpuSeconds(r.cmd.Process.Pid)
	r.stop()

	report(b, fig, logf)
}

// waitReports polls the controller's metrics until it has written a report
// per workload, and notes the first write.
func waitReports(ctx context.Context, p *controllerProc, fig *figures) error {
	url := "http://" + p.metrics + "/metrics"
	hc := &http.Client{Timeout: 5 * time.Second}
	deadline := time.After(15 * time.Minute)
	for {
		if m, err := scrape(ctx, hc, url); err == nil {
			w := reportWrites(m)
			if w > 0 && fig.toFirstWrite == 0 {
				fig.toFirstWrite = time.Since(p.start)
			}
			if w >= fig.workloads {
				fig.toAllReports = time.Since(p.start)
				return nil
			}
		}
		p.mu.Lock()
		passes := append([]pass(nil), p.passes...)
		p.mu.Unlock()
		if len(passes) > 0 && passes[0].Workloads != fig.workloads {
			return fmt.Errorf("the controller counts %d workloads, the fleet has %d: %+v", passes[0].Workloads, fig.workloads, passes[0])
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("not every report written after 15 min\n%s", p.tail(30))
		case <-p.done:
			return fmt.Errorf("the controller exited\n%s", p.tail(30))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// reportWrites is what the controller counts as Report writes: created,
// updated and deleted.
func reportWrites(m metricsText) int {
	return int(m.sum("tokenguard_controller_writes_total", `kind="Report"`, `outcome=~"created|updated|deleted"`))
}

// apiReportWrites is what the API server counts as write requests on
// reports (any answer).
func apiReportWrites(m metricsText) int {
	return int(m.sum("apiserver_request_total", `resource="reports"`, `verb=~"POST|PUT|PATCH|DELETE|APPLY"`))
}

func mustScrape(ctx context.Context, b *testing.B, hc *http.Client, url string) metricsText {
	b.Helper()
	m, err := scrape(ctx, hc, url)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// readReports counts the Report objects and finds the largest, as JSON.
func readReports(ctx context.Context, dyn dynamic.Interface, fig *figures) error {
	opts := metav1.ListOptions{Limit: 500}
	for {
		l, err := dyn.Resource(reports.ReportResource).List(ctx, opts)
		if err != nil {
			return err
		}
		for i := range l.Items {
			it := &l.Items[i]
			fig.reportObjects++
			full, err := json.Marshal(it.Object)
			if err != nil {
				return err
			}
			if len(full) > fig.largest {
				fig.largest, fig.largestName = len(full), it.GetNamespace()+"/"+it.GetName()
				c := it.DeepCopy()
				c.SetManagedFields(nil)
				bare, _ := json.Marshal(c.Object)
				fig.largestNoManagedFields = len(bare)
				res, _, _ := unstructured.NestedSlice(it.Object, "results")
				fig.largestName += fmt.Sprintf(" (%d results)", len(res))
			}
		}
		if opts.Continue = l.GetContinue(); opts.Continue == "" {
			return nil
		}
	}
}

// report checks the figures and reports them.
func report(b *testing.B, fig *figures, logf func(string, ...any)) {
	if fig.reportObjects != fig.workloads {
		b.Errorf("%d Report objects for %d workloads", fig.reportObjects, fig.workloads)
	}
	if fig.writes != fig.workloads || fig.apiWrites != fig.workloads {
		b.Errorf("cold start: %d writes by the controller's count, %d by the API server's, for %d new reports: want one each", fig.writes, fig.apiWrites, fig.workloads)
	}
	if fig.steadyWrites != 0 || fig.steadyAPIWrites != 0 {
		b.Errorf("steady pass: %d writes (API server: %d), want none", fig.steadyWrites, fig.steadyAPIWrites)
	}
	if fig.restartWrites != 0 {
		b.Errorf("restart: %d writes, want none", fig.restartWrites)
	}
	if fig.pods >= 10000 && fig.peakRSSMB > peakGoalMB {
		logf("peak RSS %.1f MB is above the %d MB goal", fig.peakRSSMB, peakGoalMB)
	}
	logf("| pods | workloads | images (SBOM) | to first write | to all reports | first pass ends | writes (controller / API server / Report objects) | steady pass writes | peak RSS | CPU | largest report | registry requests cold / steady / restart |")
	logf("| %d | %d | %d (%d) | %.1f s | %.1f s | %.1f s | %d / %d / %d | %d | %.1f MB | %.1f s | %d B (%d B without managedFields) | %d / %d / %d |",
		fig.pods, fig.workloads, fig.images, fig.pushed, fig.toFirstWrite.Seconds(), fig.toAllReports.Seconds(), fig.firstPass.Seconds(),
		fig.writes, fig.apiWrites, fig.reportObjects, fig.steadyWrites, fig.peakRSSMB, fig.cpuSeconds, fig.largest, fig.largestNoManagedFields,
		fig.registryRequests, fig.steadyRegistryRequests, fig.restartRegistryRequests)
	logf("caches synced %.1f s, leading %.1f s after start; RSS after the steady pass %.1f MB (%.1f MB of it the binary's file pages); mean pod %.0f B of JSON; largest report %s",
		fig.synced.Seconds(), fig.leading.Seconds(), fig.rssMB, fig.rssFileMB, fig.podJSONBytes, fig.largestName)
	logf("Go runtime after the steady pass: %s", fig.goMemory)
	logf("workloads by verdict %v; ImageEvidence: %d objects, %d writes", fig.verdicts, fig.evidenceObjects, fig.evidenceWrites)
	logf("restart: pass done %.1f s after start, %d report writes, %d registry requests, ImageEvidence lookups %.0f hit / %.0f miss, %d evidence writes, peak RSS %.1f MB, CPU %.1f s",
		fig.restartPass.Seconds(), fig.restartWrites, fig.restartRegistryRequests, fig.restartHits, fig.restartMisses, fig.restartEvidenceWrites, fig.restartPeakRSSMB, fig.restartCPUSeconds)
	logf("setup: %d workload objects, %d pod writes in %s", fig.setupOwners, fig.setupPodWrites, fig.setupCreate.Round(100*time.Millisecond))

	b.ReportMetric(fig.toAllReports.Seconds(), "s-to-all-reports")
	b.ReportMetric(float64(fig.writes), "writes")
	b.ReportMetric(float64(fig.steadyWrites), "steady-writes")
	b.ReportMetric(float64(fig.restartWrites), "restart-writes")
	b.ReportMetric(fig.peakRSSMB, "peak-RSS-MB")
	b.ReportMetric(fig.restartPeakRSSMB, "restart-peak-RSS-MB")
	b.ReportMetric(float64(fig.largest), "largest-report-bytes")
	b.ReportMetric(float64(fig.registryRequests), "registry-reqs")
	b.ReportMetric(float64(fig.restartRegistryRequests), "restart-registry-reqs")
	b.ReportMetric(float64(fig.workloads), "workloads")
	b.ReportMetric(fig.cpuSeconds, "cpu-s")
}
