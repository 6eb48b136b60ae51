package scheme

// Outcome of checking a found version against a minimum.
type Outcome uint8

const (
	// Unknown: the version cannot be decided (floating tag, unparsable,
	// ambiguous pseudo-version, a partial version whose range straddles
	// the minimum). Never silently OK, never TooOld.
	Unknown Outcome = iota
	// TooOld: the found version is below the minimum.
	TooOld
	// OK: the found version meets the minimum.
	OK
)

func (o Outcome) String() string {
	switch o {
	case TooOld:
		return "too-old"
	case OK:
		return "ok"
	default:
		return "unknown"
	}
}

// Result explains an Outcome.
type Result struct {
	Outcome Outcome
	// Reason is a short clause fit for a user message, set when Outcome is
	// Unknown (e.g. "floating tag names no version") and optionally
	// otherwise. It must be a constant string (no allocation on the hot
	// path); the caller adds the found version and the minimum itself.
	Reason string
}

// Minimum is a catalog minimum already parsed by its scheme.
type Minimum interface {
	// String returns the minimum as written in the catalog.
	String() string
}

// Scheme is one version ordering.
type Scheme interface {
	// Name is the catalog spelling ("semver", "client-go", "pep440", ...).
	Name() string
	// ParseMinimum validates and parses a catalog minimum; the error says
	// what is wrong with it.
	ParseMinimum(s string) (Minimum, error)
	// Check decides whether found meets min. It never panics, on any input.
	Check(found string, min Minimum) Result
}
