package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
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
	files := staletoken.ReadPaths(agg, paths, stdin)
	subjects := agg.Result(policy)

	switch *output {
	case "json":
		err = staletoken.WriteJSON(stdout, subjects, files)
	case "csv":
		err = staletoken.WriteCSV(stdout, subjects)
	default:
		err = staletoken.WriteText(stdout, subjects, files, policy)
	}
	if err != nil {
		return fail("writing output: %v", err)
	}
	failed := false
	for _, f := range files {
		if *output != "json" {
			staletoken.WriteMalformed(stderr, f)
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
