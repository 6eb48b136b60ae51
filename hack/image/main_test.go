package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestResolveMeta: the build time is -created, else SOURCE_DATE_EPOCH,
// else the commit's (not tested: it needs a repository); never the clock.
func TestResolveMeta(t *testing.T) {
	noGit := t.TempDir() // git fails here: not a repository
	tests := []struct {
		name, version, created, epoch string
		want                          time.Time
		err                           string
	}{
		{name: "flag", version: "v1", created: "1767225600", epoch: "1", want: time.Unix(1767225600, 0)},
		{name: "SOURCE_DATE_EPOCH", version: "v1", epoch: "1767225601", want: time.Unix(1767225601, 0)},
		{name: "neither, outside git", version: "v1", err: "no build time"},
		{name: "not seconds", version: "v1", created: "2026-01-01", err: "Unix seconds"},
		{name: "negative", version: "v1", created: "-5", err: "Unix seconds"},
		{name: "no version", created: "1", err: "-version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := resolveMeta(context.Background(), noGit, tt.version, "rev", tt.created, tt.epoch)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !m.Created.Equal(tt.want) || m.Created.Location() != time.UTC || m.Revision != "rev" || m.Version != tt.version {
				t.Errorf("meta %+v, want created %s", m, tt.want)
			}
		})
	}
}

// TestLabels: the revision label is left out when the commit is unknown.
func TestLabels(t *testing.T) {
	m := meta{Version: "v1", Created: time.Unix(0, 0)}
	if _, ok := labels(m)[annRevision]; ok {
		t.Error("a revision label without a revision")
	}
	m.Revision = "abc"
	if l := labels(m); l[annRevision] != "abc" || l[annCreated] != "1970-01-01T00:00:00Z" || l[annVersion] != "v1" {
		t.Errorf("labels %v", l)
	}
}
