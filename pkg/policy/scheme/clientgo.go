package scheme

import (
	"errors"
	"time"
)

// clientGoScheme orders k8s.io/client-go versions, knowing where the
// token-refresh fix (kubernetes PR #77613 and its cherry-picks) landed:
//
//   - v0.x.y compares by semver against the minimum (pseudo-versions with
//     a base as in gomod); v0.0.0 itself is Unknown: it is the placeholder
//     of a module replaced by a local copy (Kubernetes' own builds);
//   - legacy majors v1.4 … v11 (with or without +incompatible, and their
//     prereleases) are TooOld although semver ranks them above v0.15.7.
//     Exception: pseudo-versions after v9.0.0, v10.0.0 and v11.0.0 are
//     commits on the release-1.12/1.13/1.14 branches, which got the fix
//     in kubernetes-1.12.9/1.13.7/1.14.3: they are judged by date like
//     base-less pseudo-versions;
//   - v12.x (= Kubernetes 1.15) is OK for minimums up to v0.15.7;
//   - majors 13 and above are Unknown ("not a client-go release");
//   - v0.0.0-yyyymmddhhmmss-hash is TooOld before the minimum's
//     broken-before date, OK on or after its fixed-after date, Unknown in
//     between (defaults 2019-05-01 and 2019-07-01);
//   - git tags kubernetes-1.X.Y carry the fix from 1.12.9, 1.13.7, 1.14.3,
//     1.15.0 and in every 1.16+; for minimums above v0.15.7 they compare
//     as v0.X.Y.
type clientGoScheme struct{}

// Default fix window of client-go pseudo-versions without a base.
var (
	clientGoBrokenBefore = time.Date(2019, time.May, 1, 0, 0, 0, 0, time.UTC)
	clientGoFixedAfter   = time.Date(2019, time.July, 1, 0, 0, 0, 0, time.UTC)
	clientGoFix          = strictVersion{num: [3]string{"0", "15", "7"}}
	clientGoV12          = strictVersion{num: [3]string{"12", "0", "0"}}
)

type clientGoMinimum struct {
	raw string
	v   strictVersion
	// atOrBelowFix: the minimum is at most v0.15.7, so the fix rules
	// (legacy majors, kubernetes-1.X.Y backports) decide.
	atOrBelowFix bool
	// broken and fixed are yyyymmddhhmmss bounds of the window; "" when
	// base-less pseudo-versions cannot be judged.
	broken, fixed string
	window        string // Unknown reason inside the window
}

// String returns the minimum as written.
func (m clientGoMinimum) String() string { return m.raw }

const stampLayout = "20060102150405"

// NewClientGoMinimum builds a client-go minimum with a custom fix window
// for pseudo-versions without a base (v0.0.0-<date>-<hash>): dated before
// brokenBefore → TooOld, on or after fixedAfter → OK, in between →
// Unknown. Zero times leave such pseudo-versions Unknown. min must be a
// v0.x.y version. ParseMinimum uses 2019-05-01 and 2019-07-01 for
// minimums up to v0.15.7 and no window above.
func NewClientGoMinimum(min string, brokenBefore, fixedAfter time.Time) (Minimum, error) {
	v, prob := parseGo(min)
	switch {
	case prob != "":
		return nil, minErr("client-go", min, prob, ErrSyntax)
	case v.noBase:
		return nil, minErr("client-go", min, "a pseudo-version without a base release cannot be a minimum", ErrNotMinimum)
	case !isZero(v.num[0]):
		return nil, minErr("client-go", min, "a client-go minimum must be a v0.x.y version (legacy majors are judged by rule)", ErrNotMinimum)
	}
	if brokenBefore.IsZero() != fixedAfter.IsZero() {
		return nil, errors.New("client-go fix window: set both dates or neither")
	}
	if fixedAfter.Before(brokenBefore) {
		return nil, errors.New("client-go fix window: fixedAfter is before brokenBefore")
	}
	m := clientGoMinimum{raw: min, v: v.strictVersion, atOrBelowFix: cmpStrict(v.strictVersion, clientGoFix) <= 0}
	if !brokenBefore.IsZero() {
		m.broken = brokenBefore.UTC().Format(stampLayout)
		m.fixed = fixedAfter.UTC().Format(stampLayout)
		m.window = ReasonPseudoWindow
		if brokenBefore.Equal(clientGoBrokenBefore) && fixedAfter.Equal(clientGoFixedAfter) {
			m.window = ReasonPseudoWindow19
		}
	}
	return m, nil
}

// Name returns "client-go".
func (clientGoScheme) Name() string { return "client-go" }

// ParseMinimum accepts a v0.x.y minimum (the catalog's is v0.15.7).
func (clientGoScheme) ParseMinimum(s string) (Minimum, error) {
	v, prob := parseGo(s)
	if prob == "" && !v.noBase && isZero(v.num[0]) && cmpStrict(v.strictVersion, clientGoFix) > 0 {
		return NewClientGoMinimum(s, time.Time{}, time.Time{})
	}
	return NewClientGoMinimum(s, clientGoBrokenBefore, clientGoFixedAfter)
}

// byDate judges a pseudo-version by its commit timestamp.
func (m clientGoMinimum) byDate(date string) Result {
	switch {
	case m.broken == "":
		return unknown(ReasonPseudoNoBase)
	case date < m.broken:
		return Result{Outcome: TooOld}
	case date >= m.fixed:
		return Result{Outcome: OK}
	}
	return unknown(m.window)
}

// Check decides found against min.
func (clientGoScheme) Check(found string, min Minimum) Result {
	m, ok := min.(clientGoMinimum)
	if !ok {
		return unknown(ReasonForeignMinimum)
	}
	s := trimSpace(found)
	if hasPrefixFold(s, "kubernetes-") {
		return m.checkTag(found, s[len("kubernetes-"):])
	}
	v, prob := parseGo(s)
	if prob != "" {
		return unparsable(found)
	}
	major := v.num[0]
	switch {
	case isZero(major):
		if v.noBase {
			return m.byDate(v.date)
		}
		if v.date == "" && v.pre == "" && isZero(v.num[1]) && isZero(v.num[2]) && cmpStrict(m.v, v.strictVersion) > 0 {
			// Binaries built inside the Kubernetes repository require
			// k8s.io/client-go v0.0.0 and replace it with their own copy
			// (a minimum of v0.0.0 itself is met by anything).
			return unknown(ReasonPlaceholder)
		}
		return outcome(cmpStrict(v.strictVersion, m.v))
	case cmpNum(major, "12") < 0:
		// Pseudo-versions after v9/v10/v11.0.0 live on release branches
		// that received the fix cherry-picks.
		if m.atOrBelowFix && v.date != "" && !v.noBase && cmpNum(major, "9") >= 0 &&
			cmpParts(v.num[:], []string{major, "0", "0"}) > 0 {
			return m.byDate(v.date)
		}
		return Result{Outcome: TooOld, Reason: ReasonLegacyClientGo}
	case cmpNum(major, "12") == 0:
		c := cmpStrict(v.strictVersion, clientGoV12)
		switch {
		case m.atOrBelowFix && c >= 0:
			return Result{Outcome: OK}
		case m.atOrBelowFix:
			return unknown(ReasonV12Prerelease)
		case c <= 0:
			return Result{Outcome: TooOld} // v12.0.0 is Kubernetes 1.15.0
		}
		return unknown(ReasonV12AboveFix)
	}
	return unknown(ReasonNotClientGo)
}

// checkTag judges a kubernetes-1.X.Y git tag (tag is what follows
// "kubernetes-").
func (m clientGoMinimum) checkTag(found, tag string) Result {
	v, prob := parseStrict(tag)
	if prob != "" || cmpNum(v.num[0], "1") != 0 {
		return unparsable(found)
	}
	minor, patch := v.num[1], v.num[2]
	if !m.atOrBelowFix {
		v.num[0] = "0"
		return outcome(cmpStrict(v, m.v))
	}
	var fixedPatch string
	switch {
	case cmpNum(minor, "11") <= 0:
		return Result{Outcome: TooOld}
	case cmpNum(minor, "16") >= 0:
		return Result{Outcome: OK}
	case cmpNum(minor, "12") == 0:
		fixedPatch = "9"
	case cmpNum(minor, "13") == 0:
		fixedPatch = "7"
	case cmpNum(minor, "14") == 0:
		fixedPatch = "3"
	default: // 1.15
		fixedPatch = "0"
	}
	c := cmpNum(patch, fixedPatch)
	switch {
	case c > 0:
		return Result{Outcome: OK}
	case c < 0:
		return Result{Outcome: TooOld}
	case v.pre == "":
		return Result{Outcome: OK}
	}
	return unknown(ReasonK8sTagPre)
}
