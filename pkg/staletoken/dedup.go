package staletoken

// RecentIDs remembers the audit IDs of recent requests in bounded memory, so
// that the stages of one request (RequestReceived, ResponseStarted,
// ResponseComplete, Panic: each logged as its own event, each carrying the
// stale-token annotation) count once. kube-apiserver logs all of them unless
// the audit policy omits stages; a watch logs ResponseStarted and, up to an
// hour later, ResponseComplete.
//
// It keeps two generations of at most Generation 64-bit hashes each: an ID
// is remembered for at least Generation further distinct IDs (and at most
// twice that), so memory stays under ~10 MB whatever the input size. A stage
// logged further apart than that counts again. Not safe for concurrent use.
type RecentIDs struct {
	// Generation is the size of one generation; zero means
	// DefaultRecentIDs.
	Generation int

	cur, prev map[uint64]struct{}
}

// DefaultRecentIDs is the default generation size of RecentIDs.
const DefaultRecentIDs = 1 << 18

// Seen reports whether id was seen recently, and remembers it. An empty id
// is never seen: an event without an audit ID cannot be matched.
func (r *RecentIDs) Seen(id string) bool {
	if id == "" {
		return false
	}
	key := fnv64a(id)
	if _, ok := r.cur[key]; ok {
		return true
	}
	_, ok := r.prev[key]
	gen := r.Generation
	if gen <= 0 {
		gen = DefaultRecentIDs
	}
	if r.cur == nil {
		r.cur = make(map[uint64]struct{})
	}
	if len(r.cur) >= gen {
		r.prev, r.cur = r.cur, make(map[uint64]struct{}, len(r.cur))
	}
	r.cur[key] = struct{}{}
	return ok
}
