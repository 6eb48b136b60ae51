// Command judge reads soak.sh's samples and says whether RSS, open files
// and goroutines stayed flat over the last 15 minutes of the run (the
// second half of a run shorter than 17 minutes): the first and the last minute of that
// window, compared.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
)

type sample struct{ t, rss, fds, gor float64 }

func main() {
	tsv := flag.String("tsv", "", "soak.tsv")
	seconds := flag.Float64("seconds", 1200, "run length")
	tol := flag.Float64("tolerance", 0.10, "relative change allowed for RSS and open files")
	rate := flag.Float64("rate", 0, "requests per second (for the report)")
	flag.Parse()
	f, err := os.Open(*tsv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var ss []sample
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), "\t")
		if len(p) != 4 {
			continue
		}
		var s sample
		var errs [4]error
		s.t, errs[0] = strconv.ParseFloat(p[0], 64)
		s.rss, errs[1] = strconv.ParseFloat(p[1], 64)
		s.fds, errs[2] = strconv.ParseFloat(p[2], 64)
		s.gor, errs[3] = strconv.ParseFloat(p[3], 64)
		if errs[0] == nil && errs[1] == nil && errs[2] == nil && errs[3] == nil {
			ss = append(ss, s)
		}
	}
	// The last 15 minutes, once at least 2 minutes of warm-up precede
	// them; the second half of a shorter run.
	window := 900.0
	if *seconds < window+120 {
		window = *seconds / 2
	}
	from := *seconds - window
	minute := min(60, window/4)
	first := avg(ss, from, from+minute)
	last := avg(ss, *seconds-minute, *seconds+1)
	flat := within(first.rss, last.rss, *tol) && within(first.fds, last.fds, *tol) && last.gor-first.gor <= 10
	fmt.Printf("## Soak: %.0f s at %.0f req/s\n\n", *seconds, *rate)
	fmt.Printf("| | first minute of the window (from %.0f s) | last minute | change |\n|---|--:|--:|--:|\n", from)
	row("RSS MB", first.rss/1024, last.rss/1024)
	row("open files", first.fds, last.fds)
	row("goroutines", first.gor, last.gor)
	if flat {
		fmt.Printf("\nflat: RSS and open files within %.0f%%, goroutines within 10\n", *tol*100)
		return
	}
	fmt.Printf("\nNOT flat (tolerance %.0f%%, goroutines 10)\n", *tol*100)
	os.Exit(1)
}

func avg(ss []sample, from, to float64) sample {
	var a sample
	n := 0.0
	for _, s := range ss {
		if s.t >= from && s.t < to {
			a.rss += s.rss
			a.fds += s.fds
			a.gor += s.gor
			n++
		}
	}
	if n > 0 {
		a.rss, a.fds, a.gor = a.rss/n, a.fds/n, a.gor/n
	}
	return a
}

func within(a, b, tol float64) bool { return a == 0 || (b-a)/a <= tol }

func row(name string, a, b float64) {
	fmt.Printf("| %s | %.1f | %.1f | %+.1f%% |\n", name, a, b, 100*(b-a)/max(a, 1e-9))
}
