package scheme

// checkRange decides a possibly partial version against a full minimum
// core. found holds the parts the tag names (1.9 names two); the tag
// stands for all its completions, [1.9.0, 1.10.0). It returns decided ==
// false when found's parts equal the minimum's leading parts, leaving the
// caller to look at what follows (suffix, revision, build date).
//
// For a partial version with an equal prefix it decides OK only when the
// minimum's remaining parts are zero and nothing else (prerelease,
// revision) constrains it (minExact); otherwise the range spans the
// minimum and the result is Unknown.
func checkRange(found, min []string, minExact bool) (r Result, decided bool) {
	switch c := cmpParts(found, min); {
	case c > 0:
		return Result{Outcome: OK}, true
	case c < 0:
		return Result{Outcome: TooOld}, true
	}
	if len(found) >= len(min) {
		return Result{}, false
	}
	if minExact && allZero(min[len(found):]) {
		return Result{Outcome: OK}, true
	}
	return unknown(ReasonPartialSpans), true
}
