package corpus

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	gname "github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// platformImages returns an Image's single-platform images by platform.
func platformImages(t *testing.T, img Image) map[string]v1.Image {
	t.Helper()
	if img.Image != nil {
		cf, err := img.Image.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		return map[string]v1.Image{cf.Platform().String(): img.Image}
	}
	m, err := img.Index.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]v1.Image{}
	for _, d := range m.Manifests {
		child, err := img.Index.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		out[d.Platform.String()] = child
	}
	return out
}

// flatten applies the image's layers (whiteouts, opaque directories) and
// returns the regular files at the given paths.
func flatten(t *testing.T, img v1.Image, paths map[string]bool) map[string][]byte {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	out := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		name := "/" + clean(h.Name)
		if h.Typeflag == tar.TypeReg && paths[name] {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			out[name] = b
		}
	}
}

// recorded reads the version a file records for the package, the way its
// ecosystem's installer writes it: the corpus's own check that each image
// holds what its recipe says (go-containerregistry applies the layers).
func recorded(p WantPackage, data []byte) (string, error) {
	switch p.Type {
	case "npm":
		var pj struct{ Name, Version string }
		if err := json.Unmarshal(data, &pj); err != nil {
			return "", err
		}
		if want := strings.TrimPrefix(p.Namespace+"/"+p.Name, "/"); pj.Name != want {
			return "", fmt.Errorf("package.json names %q", pj.Name)
		}
		return pj.Version, nil
	case "golang":
		bi, err := buildinfo.Read(bytes.NewReader(data))
		if err != nil {
			return "", err
		}
		for _, d := range bi.Deps {
			if d.Path == p.Namespace+"/"+p.Name {
				if d.Replace != nil {
					return d.Replace.Version, nil
				}
				return d.Version, nil
			}
		}
		return "", fmt.Errorf("build info lists no %s/%s", p.Namespace, p.Name)
	case "pypi":
		return header(data, "Version: ")
	case "gem":
		m := regexp.MustCompile(`(?m)^\s*s\.version = "([^"]+)"`).FindSubmatch(data)
		if m == nil {
			return "", fmt.Errorf("no s.version")
		}
		return string(m[1]), nil
	case "nuget":
		var deps struct{ Libraries map[string]json.RawMessage }
		if err := json.Unmarshal(data, &deps); err != nil {
			return "", err
		}
		for k := range deps.Libraries {
			if n, v, ok := strings.Cut(k, "/"); ok && n == p.Name {
				return v, nil
			}
		}
		return "", fmt.Errorf("no library %s", p.Name)
	case "maven":
		jar := data
		if _, member, ok := strings.Cut(p.Path, "!/"); ok {
			b, err := zipMember(data, member)
			if err != nil {
				return "", err
			}
			jar = b
		}
		if b, err := zipMember(jar, "META-INF/maven/"+p.Namespace+"/"+p.Name+"/pom.properties"); err == nil {
			return header(b, "version=")
		}
		b, err := zipMember(jar, "META-INF/MANIFEST.MF")
		if err != nil {
			return "", err
		}
		return header(b, "Implementation-Version: ")
	}
	return "", fmt.Errorf("no reader for type %s", p.Type)
}

func header(data []byte, prefix string) (string, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("no %q line", prefix)
}

func zipMember(data []byte, name string) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	f, err := zr.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// outerPath is the image file of a package path ("/app/app.jar" of
// "/app/app.jar!/BOOT-INF/lib/x.jar").
func outerPath(p string) string {
	outer, _, _ := strings.Cut(p, "!/")
	return outer
}

// checkGroundTruth holds each image to its Want and Absent: every wanted
// file is there after the layers are applied and records the wanted
// version; no absent package is recorded where it was.
func checkGroundTruth(t *testing.T, imgs []Image) {
	for _, img := range imgs {
		t.Run(img.Name, func(t *testing.T) {
			for platform, pimg := range platformImages(t, img) {
				paths := map[string]bool{}
				for _, w := range append(slices.Clone(img.Want), img.Absent...) {
					if w.Platform == platform {
						paths[outerPath(w.Path)] = true
					}
				}
				files := flatten(t, pimg, paths)
				for _, w := range img.Want {
					if w.Platform != platform {
						continue
					}
					data, ok := files[outerPath(w.Path)]
					if !ok {
						t.Errorf("%s: %s is not in the image", w, outerPath(w.Path))
						continue
					}
					if v, err := recorded(w, data); err != nil || v != w.Version {
						t.Errorf("%s: the file records %q (%v)", w, v, err)
					}
				}
				checkGoLinksOnlyWanted(t, img.Want, platform, files)
				for _, a := range img.Absent {
					if data, ok := files[outerPath(a.Path)]; ok && a.Platform == platform {
						if v, err := recorded(a, data); err == nil && v == a.Version {
							t.Errorf("absent %s is still recorded there", a)
						}
					}
				}
			}
		})
	}
}

// checkGoLinksOnlyWanted is the other half of a Go program's ground truth:
// every watched module its build info lists (the replacement's version
// when replaced) is wanted at that file, so a module linked without go.mod
// saying so is not left out of Want.
func checkGoLinksOnlyWanted(t *testing.T, want []WantPackage, platform string, files map[string][]byte) {
	t.Helper()
	wanted := map[string]bool{}
	for _, w := range want {
		if w.Type == "golang" && w.Platform == platform {
			wanted[w.Path+" "+w.Namespace+"/"+w.Name+"@"+w.Version] = true
		}
	}
	seen := map[string]bool{}
	for _, w := range want {
		if w.Type != "golang" || w.Platform != platform || seen[w.Path] {
			continue
		}
		seen[w.Path] = true
		data, ok := files[w.Path]
		if !ok {
			continue // reported above
		}
		bi, err := buildinfo.Read(bytes.NewReader(data))
		if err != nil {
			continue // reported above
		}
		for _, d := range bi.Deps {
			if !slices.Contains(watchedGoModules, d.Path) {
				continue
			}
			v := d.Version
			if d.Replace != nil {
				v = d.Replace.Version
			}
			if !wanted[w.Path+" "+d.Path+"@"+v] {
				t.Errorf("%s (%s) links %s@%s, which Want does not list", w.Path, platform, d.Path, v)
			}
		}
	}
}

func TestCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("the layer corpus takes minutes to build the first time; not in -short")
	}
	if raceEnabled {
		// One goroutine compressing 600 MB: -race finds nothing here and
		// makes it six minutes instead of one and a half.
		t.Skip("the layer corpus test skips under -race (6 min instead of 1.5); run: go test -count=1 -timeout 30m -run TestCorpus -v ./test/corpus/")
	}
	imgs := Build(t, "")
	if len(imgs) < 20 {
		t.Errorf("the corpus has %d images, want at least 20", len(imgs))
	}
	names := map[string]bool{}
	for _, img := range imgs {
		if names[img.Name] {
			t.Errorf("two images are named %s", img.Name)
		}
		names[img.Name] = true
		if (img.Image == nil) == (img.Index == nil) {
			t.Errorf("%s: want exactly one of Image and Index", img.Name)
		}
	}
	checkGroundTruth(t, imgs)

	host := StartRegistry(t)
	refs := Push(t, host, imgs)
	if len(refs) != len(imgs) {
		t.Fatalf("pushed %d of %d images", len(refs), len(imgs))
	}
	t.Run("distribution", func(t *testing.T) {
		// The same images in the CNCF distribution registry, read back by
		// digest: what a real registry stores (zstd layers included).
		host := StartDistribution(t)
		for name, ref := range Push(t, host, imgs) {
			checkDigest(t, imgs, name, ref)
		}
	})
	t.Run("tokenguard finds the ground truth", func(t *testing.T) { checkTokenguard(t, host, imgs, refs) })
	t.Run("AWS SDK verdicts", func(t *testing.T) { checkAWSVerdicts(t, host, refs) })
	floor := pullFloor(t, imgs, refs)
	tg := runTokenguardCheck(t, host, imgs, refs)
	t.Logf("floor (every layer pulled and decompressed, two images at a time): %v; tokenguard check: %v (%.2fx)",
		floor.Round(10*time.Millisecond), tg.wall.Round(10*time.Millisecond), tg.wall.Seconds()/floor.Seconds())
	if tg.wall.Seconds() > 1.3*floor.Seconds() {
		t.Errorf("tokenguard check took %v, more than 1.3x the %v of only pulling and decompressing the layers", tg.wall, floor)
	}
	syft, err := SyftPath()
	if err != nil {
		t.Logf("syft side skipped: %v", err)
		return
	}
	wall, peak := compareSyft(t, syft, imgs, refs)
	t.Logf("side by side over %d images: tokenguard %v and %.0f MiB peak RSS in one run; syft %v in all and %.0f MiB peak (wall %.1fx, RSS %.1fx)",
		len(imgs), tg.wall.Round(10*time.Millisecond), float64(tg.peak)/(1<<20), wall.Round(10*time.Millisecond), float64(peak)/(1<<20),
		wall.Seconds()/tg.wall.Seconds(), float64(peak)/float64(tg.peak))
	if wall < 10*tg.wall {
		t.Errorf("tokenguard took %v, syft %v: want at least 10x less", tg.wall, wall)
	}
	if tg.peak*5 > peak {
		t.Errorf("tokenguard peaked at %.0f MiB RSS, syft at %.0f MiB: want at most a fifth", float64(tg.peak)/(1<<20), float64(peak)/(1<<20))
	}
}

// checkDigest fetches ref's descriptor and compares its digest with the
// image's own.
func checkDigest(t *testing.T, imgs []Image, name, ref string) {
	t.Helper()
	r, err := gname.ParseReference(ref, gname.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(r)
	if err != nil {
		t.Errorf("%s: %v", ref, err)
		return
	}
	for _, img := range imgs {
		if img.Name != name {
			continue
		}
		var want v1.Hash
		if img.Index != nil {
			want, err = img.Index.Digest()
		} else {
			want, err = img.Image.Digest()
		}
		if err != nil || desc.Digest != want {
			t.Errorf("%s: the registry has %s, the image is %s (%v)", ref, desc.Digest, want, err)
		}
	}
}

// syftResult is what syft found of one image's ground truth.
type syftResult struct {
	found, missed, asOther, absentSeen, extra []string
	run                                       SyftRun
}

// match compares one syft run with the image's packages of the platform
// syft scanned; wrong lists syft versions of a wanted identity that the
// ground truth neither wants nor marks absent.
func match(img Image, run SyftRun, platform string, interest map[string]bool) (r syftResult, wrong []string) {
	r.run = run
	used := make([]bool, len(run.Packages))
	find := func(w WantPackage, sameID bool) int {
		for i, p := range run.Packages {
			if used[i] || p.Version != w.Version {
				continue
			}
			if sameID && strings.EqualFold(p.ID, w.ID()) || !sameID && strings.EqualFold(p.Name, w.Name) {
				return i
			}
		}
		return -1
	}
	for _, w := range img.Want {
		switch {
		case w.Platform != platform:
			r.missed = append(r.missed, w.ID()+"@"+w.Version+" ("+w.Platform+", not scanned)")
		case find(w, true) >= 0:
			used[find(w, true)] = true
			r.found = append(r.found, w.ID()+"@"+w.Version)
		case find(w, false) >= 0:
			i := find(w, false)
			used[i] = true
			r.asOther = append(r.asOther, w.ID()+"@"+w.Version+" as "+run.Packages[i].PURL)
		default:
			r.missed = append(r.missed, w.ID()+"@"+w.Version)
		}
	}
	for _, a := range img.Absent {
		if i := find(a, true); i >= 0 && a.Platform == platform {
			used[i] = true
			r.absentSeen = append(r.absentSeen, a.ID()+"@"+a.Version+" at "+strings.Join(run.Packages[i].Paths, ", "))
		}
	}
	for i, p := range run.Packages {
		if used[i] || !interest[strings.ToLower(p.ID)] {
			continue
		}
		r.extra = append(r.extra, p.PURL+" at "+strings.Join(p.Paths, ", "))
		if img.Index != nil {
			continue
		}
		for _, w := range img.Want {
			if strings.EqualFold(p.ID, w.ID()) {
				wrong = append(wrong, fmt.Sprintf("syft reports %s at %s; the ground truth has %s", p.PURL, strings.Join(p.Paths, ", "), w))
				break
			}
		}
	}
	return r, wrong
}

func compareSyft(t *testing.T, bin string, imgs []Image, refs map[string]string) (time.Duration, int64) {
	interest := map[string]bool{}
	for _, img := range imgs {
		for _, w := range append(slices.Clone(img.Want), img.Absent...) {
			interest[strings.ToLower(w.ID())] = true
		}
	}
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "image\twant\tfound\tmissed\tabsent reported\textra\twall\tpeak RSS")
	var (
		wall                      time.Duration
		peak                      int64
		want, found, missed, runs int
		details                   []string
	)
	for _, img := range imgs {
		run, err := Syft(bin, refs[img.Name], "")
		if err != nil {
			t.Errorf("%s: %v", img.Name, err)
			continue
		}
		runs++
		wall += run.Wall
		peak = max(peak, run.MaxRSS)
		r, wrong := match(img, run, amd64, interest)
		for _, w := range wrong {
			t.Errorf("%s: %s: is the ground truth right?", img.Name, w)
		}
		want += len(img.Want)
		found += len(r.found) + len(r.asOther)
		missed += len(r.missed)
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%v\t%.0f MiB\n", img.Name, len(img.Want), len(r.found)+len(r.asOther),
			len(r.missed), len(r.absentSeen), len(r.extra), run.Wall.Round(10*time.Millisecond), float64(run.MaxRSS)/(1<<20))
		for _, s := range r.asOther {
			details = append(details, img.Name+": found under another identity: "+s)
		}
		for _, s := range r.missed {
			details = append(details, img.Name+": missed: "+s)
		}
		for _, s := range r.absentSeen {
			details = append(details, img.Name+": reported a removed or unlisted package: "+s)
		}
		for _, s := range r.extra {
			details = append(details, img.Name+": extra: "+s)
		}
		// An index: what syft sees when asked for each other platform.
		if img.Index != nil {
			for platform := range platformImages(t, img) {
				if platform == amd64 {
					continue
				}
				prun, err := Syft(bin, refs[img.Name], platform)
				if err != nil {
					t.Errorf("%s --platform %s: %v", img.Name, platform, err)
					continue
				}
				pr, _ := match(img, prun, platform, interest)
				details = append(details, fmt.Sprintf("%s: with --platform %s (a second scan): found %s", img.Name, platform, strings.Join(pr.found, ", ")))
			}
		}
	}
	fmt.Fprintf(tw, "total (%d runs)\t%d\t%d\t%d\t\t\t%v\t%.0f MiB max\n", runs, want, found, missed, wall.Round(10*time.Millisecond), float64(peak)/(1<<20))
	tw.Flush()
	t.Logf("syft %s (syft scan registry:REF -o syft-json; default platform %s):\n%s\n%s", bin, amd64, table.String(), strings.Join(details, "\n"))
	return wall, peak
}
