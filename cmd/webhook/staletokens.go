package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tokenguard/tokenguard/pkg/staletoken"
)

const staleTokensSynopsis = `stale-tokens [flags] PATH...

Read API-server audit logs and report the service accounts whose pods use
stale bound tokens, most urgent first. Read: audit.k8s.io/v1 Event JSON
lines, EventList; CloudWatch Logs as aws logs filter-log-events or
get-log-events print them (--output json or text), aws logs tail, the export
to S3, Logs Insights results (get-query-results, console JSON or CSV
exports, including the EKS page's subject/elapsedtime query); Fluentd and
Fluent Bit file output; gzip of any of these. Directories are read
recursively, - is stdin. The stages of one request (same auditID) count
once. A token's age is its "seconds after warning threshold" + 3607 s,
measured as of the subject's last-seen event (or --now): rejected at
--max-token-age, expiring within --warn-within.`

func runStaleTokens(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("stale-tokens", staleTokensSynopsis, stderr)
	output := fs.String("o", "text", "output format: text, json or csv")
	maxAge := ageFlag(staletoken.DefaultMaxTokenAge)
	fs.Var(&maxAge, "max-token-age", "age at which the API server rejects a token: a Go duration (2160h), seconds (7776000) or days (90d)")
	warnWithin := ageFlag(staletoken.DefaultWarnWithin)
	fs.Var(&warnWithin, "warn-within", "a subject is expiring when less than this is left (336h, 1209600, 14d); 0 turns it off")
	now := fs.String("now", "", "measure time left as of this RFC 3339 time instead of each subject's last-seen event")
	maxLine := fs.Int("max-line-bytes", staletoken.DefaultMaxLineBytes, "longest line read; longer lines are counted malformed")
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "tokenguard stale-tokens: "+format+"\n", a...)
		return exitUsage
	}
	switch {
	case *output != "text" && *output != "json" && *output != "csv":
		return fail("-o %q is not supported; use text, json or csv", *output)
	case maxAge <= 0:
		return fail("--max-token-age must be positive")
	case warnWithin < 0:
		return fail("--warn-within must not be negative")
	case *maxLine <= 0:
		return fail("--max-line-bytes must be positive")
	case len(paths) == 0:
		fmt.Fprintln(stderr, "tokenguard stale-tokens: give at least one audit log file, directory, or - for stdin")
		fs.Usage()
		return exitUsage
	}
	policy := staletoken.Policy{MaxTokenAge: time.Duration(maxAge), WarnWithin: time.Duration(warnWithin)}
	if warnWithin == 0 {
		policy.WarnWithin = -1
	}
	if *now != "" {
		t, err := time.Parse(time.RFC3339, *now)
		if err != nil {
			return fail("--now %q is not an RFC 3339 time (2024-06-01T00:00:00Z)", *now)
		}
		policy.Now = t
	}

	agg := staletoken.NewAggregator()
	agg.MaxLineBytes = *maxLine
	files := readAuditLogs(agg, paths, stdin)
	subjects := agg.Result(policy)

	switch *output {
	case "json":
		err = writeStaleJSON(stdout, subjects, files)
	case "csv":
		err = writeStaleCSV(stdout, subjects)
	default:
		err = writeStaleText(stdout, subjects, files, policy)
	}
	if err != nil {
		return fail("writing output: %v", err)
	}
	failed := false
	for _, f := range files {
		if *output != "json" {
			writeMalformed(stderr, f)
		}
		if f.Error != "" {
			failed = true
			fmt.Fprintf(stderr, "tokenguard stale-tokens: %s: %s\n", f.Source, f.Error)
		}
	}
	if failed {
		return exitUsage
	}
	for _, s := range subjects {
		if s.Status != staletoken.StatusStale {
			return exitFindings
		}
	}
	return exitOK
}

// ageFlag is a duration given as a Go duration, whole seconds or days.
type ageFlag time.Duration

func (a *ageFlag) String() string { return time.Duration(*a).String() }

func (a *ageFlag) Set(s string) error {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > int64(time.Duration(1<<63-1)/time.Second) {
			return errors.New("too large")
		}
		*a = ageFlag(time.Duration(n) * time.Second)
		return nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(d, 10, 64)
		if err != nil || n > int64(time.Duration(1<<63-1)/(24*time.Hour)) {
			return fmt.Errorf("%q is not a number of days", s)
		}
		*a = ageFlag(time.Duration(n) * 24 * time.Hour)
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration (2160h), seconds (7776000) or days (90d)", s)
	}
	*a = ageFlag(d)
	return nil
}

// fileResult is one input in the JSON output: its statistics, and the
// error that stopped reading it, if any.
type fileResult struct {
	staletoken.FileStats
	Error string `json:"error,omitempty"`
}

// readAuditLogs reads every path in order: a file, a directory (every
// regular file below it, in lexical order, skipping hidden names), or "-"
// for stdin. A path that cannot be read or is not an audit log is recorded
// with its error; the others are read all the same.
func readAuditLogs(agg *staletoken.Aggregator, paths []string, stdin io.Reader) []fileResult {
	var out []fileResult
	readOne := func(name string, r io.Reader) {
		st, err := agg.Read(name, r)
		res := fileResult{FileStats: st}
		if err != nil {
			res.Error = err.Error()
		}
		out = append(out, res)
	}
	failed := func(name string, err error) {
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Path == name {
			err = pe.Err
		}
		out = append(out, fileResult{FileStats: staletoken.FileStats{Source: name, MalformedLines: []int64{}}, Error: err.Error()})
	}
	readFile := func(name string) {
		f, err := os.Open(name)
		if err != nil {
			failed(name, err)
			return
		}
		defer f.Close()
		readOne(name, f)
	}
	for _, p := range paths {
		if p == "-" {
			if stdin == nil {
				failed(p, errors.New("no standard input"))
				continue
			}
			readOne(p, stdin)
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			failed(p, err)
			continue
		}
		if !fi.IsDir() {
			readFile(p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				failed(path, err)
				return nil
			}
			if path != p && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				readFile(path)
			} else if d.Type()&fs.ModeSymlink != 0 {
				if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
					readFile(path)
				}
			}
			return nil
		})
		if err != nil {
			failed(p, err)
		}
	}
	return out
}

func writeStaleJSON(w io.Writer, subjects []staletoken.Subject, files []fileResult) error {
	if files == nil {
		files = []fileResult{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Subjects []staletoken.Subject `json:"subjects"`
		Files    []fileResult         `json:"files"`
	}{subjects, files})
}

var csvHeader = []string{"status", "namespace", "serviceAccount", "subject", "daysLeft", "secondsLeft",
	"tokenAgeSeconds", "maxSecondsAfterThreshold", "events", "firstSeen", "lastSeen", "pods", "morePods"}

func writeStaleCSV(w io.Writer, subjects []staletoken.Subject) error {
	cw := csv.NewWriter(w)
	cw.Write(csvHeader)
	for _, s := range subjects {
		cw.Write([]string{string(s.Status), s.Namespace, s.ServiceAccount, s.Subject,
			strconv.FormatInt(s.DaysLeft, 10), strconv.FormatInt(s.SecondsLeft, 10),
			strconv.FormatInt(s.TokenAgeSeconds, 10), strconv.FormatInt(s.MaxSecondsAfterThreshold, 10),
			strconv.FormatInt(s.Events, 10), s.FirstSeen.Format(time.RFC3339Nano), s.LastSeen.Format(time.RFC3339Nano),
			strings.Join(s.Pods, " "), strconv.Itoa(s.MorePods)})
	}
	cw.Flush()
	return cw.Error()
}

func writeStaleText(w io.Writer, subjects []staletoken.Subject, files []fileResult, p staletoken.Policy) error {
	var events, stale, dups int64
	for _, f := range files {
		events += f.Events
		stale += f.StaleEvents
		dups += f.DuplicateStaleEvents
	}
	from := fmt.Sprintf("%d audit event%s in %d file%s", events, plural(int(events)), len(files), plural(len(files)))
	if len(subjects) == 0 {
		_, err := fmt.Fprintf(w, "No stale-token events in %s.\n", from)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tNAMESPACE\tSERVICE ACCOUNT\tDAYS LEFT\tMAX SECONDS AFTER THRESHOLD\tEVENTS\tFIRST SEEN\tLAST SEEN\tPODS")
	counts := map[staletoken.Status]int{}
	for _, s := range subjects {
		counts[s.Status]++
		pods := strings.Join(s.Pods, ",")
		if s.MorePods > 0 {
			pods += fmt.Sprintf(" (+%d more)", s.MorePods)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n", s.Status, s.Namespace, s.ServiceAccount,
			s.DaysLeft, s.MaxSecondsAfterThreshold, s.Events, textTime(s.FirstSeen), textTime(s.LastSeen), dash(pods))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	maxAge := p.MaxTokenAge
	if maxAge == 0 {
		maxAge = staletoken.DefaultMaxTokenAge
	}
	header := false
	for _, s := range subjects {
		if s.Status == staletoken.StatusStale {
			continue
		}
		if !header {
			fmt.Fprintf(w, "\nTo do (the quick fix buys time; the real fix is a client that re-reads its token):\n")
			header = true
		}
		left := fmt.Sprintf("%d day%s left", s.DaysLeft, plural(int(s.DaysLeft)))
		if s.Status == staletoken.StatusRejected {
			left = "past the cutoff: its requests are rejected"
		}
		fmt.Fprintf(w, "  %s/%s (%s, %s): restart the pods using service account %s/%s (e.g. kubectl rollout restart on their Deployment) for another %s, then upgrade their Kubernetes client\n",
			s.Namespace, s.ServiceAccount, s.Status, left, s.Namespace, s.ServiceAccount, humanAge(maxAge))
	}
	asOf := "as of each service account's last-seen event"
	if !p.Now.IsZero() {
		asOf = "as of " + textTime(p.Now)
	}
	merged := ""
	if dups > 0 {
		merged = fmt.Sprintf(", %d more stage%s of the same requests counted once", dups, plural(int(dups)))
	}
	_, err := fmt.Fprintf(w, "\n%d service account%s with stale tokens: %d rejected, %d expiring, %d stale (%d stale-token request%s%s, in %s; time left %s).\n",
		len(subjects), plural(len(subjects)), counts[staletoken.StatusRejected], counts[staletoken.StatusExpiring],
		counts[staletoken.StatusStale], stale, plural(int(stale)), merged, from, asOf)
	return err
}

// writeMalformed reports a file's malformed lines (the first ones with
// their reason).
func writeMalformed(w io.Writer, f fileResult) {
	if f.Malformed == 0 {
		return
	}
	more := ""
	if int64(len(f.Problems)) < f.Malformed {
		more = fmt.Sprintf(", the first %d:", len(f.Problems))
	}
	fmt.Fprintf(w, "%s: %d malformed line%s skipped%s\n", f.Source, f.Malformed, plural(int(f.Malformed)), more)
	for _, p := range f.Problems {
		fmt.Fprintf(w, "%s:%d: %s\n", f.Source, p.Line, p.Reason)
	}
}

func textTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

func humanAge(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		days := int(d / (24 * time.Hour))
		return fmt.Sprintf("%d day%s", days, plural(days))
	}
	return d.String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
