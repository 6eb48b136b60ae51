package staletoken

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteJSON writes the subjects and the files read as indented JSON.
func WriteJSON(w io.Writer, subjects []Subject, files []FileResult) error {
	if files == nil {
		files = []FileResult{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Subjects []Subject    `json:"subjects"`
		Files    []FileResult `json:"files"`
	}{subjects, files})
}

// CSVHeader is the first row of WriteCSV.
var CSVHeader = []string{"status", "namespace", "serviceAccount", "subject", "daysLeft", "secondsLeft",
	"tokenAgeSeconds", "maxSecondsAfterThreshold", "events", "firstSeen", "lastSeen", "pods", "morePods"}

// WriteCSV writes one row per subject. Text cells that a spreadsheet would
// take for a formula (=, +, -, @, tab, carriage return first) are prefixed
// with a single quote: names in audit logs are not to be trusted.
func WriteCSV(w io.Writer, subjects []Subject) error {
	cw := csv.NewWriter(w)
	cw.Write(CSVHeader)
	for _, s := range subjects {
		cw.Write([]string{string(s.Status), csvText(s.Namespace), csvText(s.ServiceAccount), csvText(s.Subject),
			strconv.FormatInt(s.DaysLeft, 10), strconv.FormatInt(s.SecondsLeft, 10),
			strconv.FormatInt(s.TokenAgeSeconds, 10), strconv.FormatInt(s.MaxSecondsAfterThreshold, 10),
			strconv.FormatInt(s.Events, 10), s.FirstSeen.Format(time.RFC3339Nano), s.LastSeen.Format(time.RFC3339Nano),
			csvText(strings.Join(s.Pods, " ")), strconv.Itoa(s.MorePods)})
	}
	cw.Flush()
	return cw.Error()
}

// WriteText writes a table of the subjects, what to do about each, and a
// summary line.
func WriteText(w io.Writer, subjects []Subject, files []FileResult, p Policy) error {
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
	counts := map[Status]int{}
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
		maxAge = DefaultMaxTokenAge
	}
	header := false
	for _, s := range subjects {
		if s.Status == StatusStale {
			continue
		}
		if !header {
			fmt.Fprintf(w, "\nTo do (the quick fix buys time; the real fix is a client that re-reads its token):\n")
			header = true
		}
		left := fmt.Sprintf("%d day%s left", s.DaysLeft, plural(int(s.DaysLeft)))
		if s.Status == StatusRejected {
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
		len(subjects), plural(len(subjects)), counts[StatusRejected], counts[StatusExpiring],
		counts[StatusStale], stale, plural(int(stale)), merged, from, asOf)
	return err
}

// WriteMalformed reports a file's malformed lines (the first ones with
// their reason).
func WriteMalformed(w io.Writer, f FileResult) {
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

// csvText defuses a cell a spreadsheet would evaluate as a formula.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
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
