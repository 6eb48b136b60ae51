package config

import (
	"path"
	"strings"
	"testing"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"a*", "abc", true},
		{"a*", "a/c", false},
		{"a**", "a/c", true},
		{"a***", "a/b/c", true},
		{"**", "", true},
		{"*", "", true},
		{"*", "/", false},
		{"*/*", "a/b", true},
		{"*/*", "a/b/c", false},
		{"**/c", "a/b/c", true},
		{"**/c", "c", false},
		{"a/**/c", "a/c", false},
		{"a/**/c", "a/b/c", true},
		{"a/**/c", "a/b/x/c", true},
		{"**/c*", "a/cb/cd", true}, // needs backtracking past the first "/c"
		{"*x*x*x*", "axbxcxd", true},
		{"*x*x*x*", "axbxc/xd", false},
		{"**x*x*", "a/xbx/c", false},
		{"**x*x*", "a/xbxc", true},
		{"?", "a", true},
		{"?", "/", false},
		{"??", "a", false},
		{"[a-c]x", "bx", true},
		{"[a-c]x", "dx", false},
		{"[^a-c]x", "dx", true},
		{"[^a-c]x", "/x", false},
		{`[\]]`, "]", true},
		{`\*`, "*", true},
		{`\*`, "a", false},
		{"team-*-sandbox", "team-a-b-sandbox", true},
		{"team-*-sandbox", "team--sandbox", true},
		{"team-*-sandbox", "team-sandbox", false},
		{"ab*ba", "aba", false},
		{"ab*ba", "abba", true},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+"~"+tt.name, func(t *testing.T) {
			if err := checkGlob(tt.pattern); err != nil {
				t.Fatal(err)
			}
			g, err := compileGlob(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if got := g.match(name{b: tt.name}); got != tt.want {
				t.Errorf("match = %v, want %v", got, tt.want)
			}
			// Any split of the name matches alike.
			for i := 0; i <= len(tt.name); i++ {
				if got := g.match(name{a: tt.name[:i], b: tt.name[i:]}); got != tt.want {
					t.Errorf("match split at %d = %v, want %v", i, got, tt.want)
				}
			}
		})
	}
}

// TestGlobAgreesWithPathMatch checks that without "**" (and without classes
// that path.Match lets match '/'), the syntax is path.Match's.
func TestGlobAgreesWithPathMatch(t *testing.T) {
	patterns := []string{"*", "a*", "*a", "a*b", "a/*", "*/b", "*/*", "a?c", "[a-c]*", "[^x]?", `\a*`, "*.*", "a*/b*c", "*a*a*", "x[0-9][0-9]"}
	names := []string{"", "a", "ab", "abc", "a/b", "a/bc", "b/b", "aac", "x12", "x1", "a.b", "a/bxc", "aaa", "ba/ab"}
	for _, p := range patterns {
		g, err := compileGlob(p)
		if err != nil {
			t.Fatalf("%q: %v", p, err)
		}
		for _, n := range names {
			if strings.Contains(p, "[") && strings.Contains(n, "/") {
				continue
			}
			want, _ := path.Match(p, n)
			if got := g.match(name{b: n}); got != want {
				t.Errorf("%q ~ %q = %v, path.Match says %v", p, n, got, want)
			}
		}
	}
}

func TestCheckGlob(t *testing.T) {
	tests := []struct {
		pattern string
		ok      bool
	}{
		{"a*", true}, {"**", true}, {"[a-z]", true}, {"[^a]", true}, {`\[`, true}, {`[\-]`, true},
		{"[", false}, {"[a", false}, {"[]", false}, {"[-a]", false}, {"[a-]", false}, {`a\`, false}, {"é*", false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			err := checkGlob(tt.pattern)
			if (err == nil) != tt.ok {
				t.Errorf("checkGlob(%q) = %v, want ok=%v", tt.pattern, err, tt.ok)
			}
		})
	}
}

// refMatch is an obviously correct, exponential matcher for the fuzz test.
func refMatch(toks []globTok, s string) bool {
	if len(toks) == 0 {
		return s == ""
	}
	t := toks[0]
	switch t.kind {
	case tokStar, tokStars:
		for i := 0; i <= len(s); i++ {
			if refMatch(toks[1:], s[i:]) {
				return true
			}
			if i < len(s) && s[i] == '/' && t.kind == tokStar {
				return false
			}
		}
		return false
	}
	return s != "" && t.matchByte(s[0]) && refMatch(toks[1:], s[1:])
}

func FuzzGlob(f *testing.F) {
	for _, s := range [][2]string{{"**/c*", "a/cb/cd"}, {"*x*x", "axbx"}, {"[a-c]?*", "b/c"}, {`a\*`, "a*"}, {"", ""}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if len(pattern) > 16 || len(s) > 24 {
			return
		}
		_, pathErr := path.Match(pattern, "")
		if _, err := compileGlob(pattern); (err == nil) != (pathErr == nil) && isASCII(pattern) {
			t.Fatalf("%q: compileGlob error %v, path.Match error %v", pattern, err, pathErr)
		}
		if checkGlob(pattern) != nil {
			return
		}
		g, err := compileGlob(pattern)
		if err != nil {
			t.Fatalf("checked pattern %q does not compile: %v", pattern, err)
		}
		var all []globTok
		for i := 0; i < len(g.prefix); i++ {
			all = append(all, globTok{kind: tokByte, b: g.prefix[i]})
		}
		all = append(all, g.mid...)
		for i := 0; i < len(g.suffix); i++ {
			all = append(all, globTok{kind: tokByte, b: g.suffix[i]})
		}
		want := refMatch(all, s)
		if got := g.match(name{b: s}); got != want {
			t.Errorf("%q ~ %q = %v, reference says %v", pattern, s, got, want)
		}
		if half := len(s) / 2; half > 0 {
			if got := g.match(name{a: s[:half], b: s[half:]}); got != want {
				t.Errorf("%q ~ %q split at %d = %v, reference says %v", pattern, s, half, got, want)
			}
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
