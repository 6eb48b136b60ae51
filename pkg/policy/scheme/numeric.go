package scheme

import "strings"

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

func isAlnum(c byte) bool { return isDigit(c) || isLetter(c) }

func isHex(c byte) bool { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'f' }

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// allDigits reports a non-empty string of ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// leadingZero reports a multi-digit number starting with 0 ("01").
func leadingZero(s string) bool { return len(s) > 1 && s[0] == '0' }

// isZero reports a number made only of zeros ("", "0", "000").
func isZero(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}

// cmpNum compares two digit strings numerically, at any length (no
// overflow); leading zeros are insignificant and "" counts as 0.
func cmpNum(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// cmpFold compares ASCII strings case-insensitively.
func cmpFold(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		x, y := lower(a[i]), lower(b[i])
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

// eqLower reports whether s equals the lower-case ASCII word w, ignoring
// ASCII case; cheaper than strings.EqualFold on the hot path.
func eqLower(s, w string) bool {
	if len(s) != len(w) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if lower(s[i]) != w[i] {
			return false
		}
	}
	return true
}

// hasPrefixFold reports whether s starts with the lower-case ASCII prefix,
// ignoring ASCII case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && eqLower(s[:len(prefix)], prefix)
}

// nextWord splits s at the first byte of seps: the word before it and
// the rest after it ("" and done when s is exhausted).
func nextWord(s, seps string) (word, rest string, more bool) {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(seps, s[i]) >= 0 {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func trimSpace(s string) string { return strings.TrimSpace(s) }

// trimV removes one leading "v" or "V".
func trimV(s string) string {
	if s != "" && (s[0] == 'v' || s[0] == 'V') {
		return s[1:]
	}
	return s
}

// scanNums reads dot-separated digit runs from the start of s into dst.
// It stops before the first byte that does not continue the dotted run
// (a '.' is consumed only when a digit follows). n is the number of parts
// read; n == len(dst)+1 means there were more parts than dst holds.
func scanNums(s string, dst []string) (n int, rest string) {
	i := 0
	for {
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == i {
			return n, s[i:]
		}
		if n == len(dst) {
			return n + 1, s[j:]
		}
		dst[n] = s[i:j]
		n++
		if j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
			i = j + 1
			continue
		}
		return n, s[j:]
	}
}

// cmpParts compares numeric parts pairwise over the shorter of a and b.
func cmpParts(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if c := cmpNum(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

// allZero reports whether every part is zero.
func allZero(parts []string) bool {
	for _, p := range parts {
		if !isZero(p) {
			return false
		}
	}
	return true
}

// outcome turns a comparison of found against the minimum into a Result.
func outcome(c int) Result {
	if c >= 0 {
		return Result{Outcome: OK}
	}
	return Result{Outcome: TooOld}
}
