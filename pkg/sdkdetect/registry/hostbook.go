package registry

import (
	"sync"
	"time"
)

// hostBook keeps what registries' answers taught about each host: the
// scheme a registry that may speak plain HTTP answered on, and the
// challenge it answers anonymous requests with. With them a new client
// of the host (a new repository, other credentials) sends its first
// request over the right scheme and with credentials, instead of the
// ping ggcr sends before a repository's first request. Nothing in it is
// secret: every client of the Source shares it. Facts are kept for
// maxHosts hosts and relearnt after pullerMaxAge.
type hostBook struct {
	mu    sync.Mutex
	hosts *hostLRU[*hostFacts]
	now   func() time.Time
}

type hostFacts struct {
	born time.Time
	// scheme is "https" or "http"; "" until a request was answered.
	scheme string
	// racers are the requests finding out the scheme; learning is closed
	// when they have (nil when none is under way).
	racers   int
	learning chan struct{}
	// chal is the host's challenge; nil until a 401 said it.
	chal *challenge
}

func newHostBook(now func() time.Time) *hostBook {
	return &hostBook{hosts: newHostLRU[*hostFacts](maxHosts), now: now}
}

// facts returns host's entry, new when absent or too old. The caller
// holds b.mu.
func (b *hostBook) facts(host string) *hostFacts {
	now := b.now()
	f, ok := b.hosts.get(host)
	if !ok || now.Sub(f.born) >= pullerMaxAge {
		f = &hostFacts{born: now}
		b.hosts.add(host, f)
	}
	return f
}

// challenge returns host's challenge, if known.
func (b *hostBook) challenge(host string) (challenge, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c := b.facts(host).chal; c != nil {
		return *c, true
	}
	return challenge{}, false
}

func (b *hostBook) setChallenge(host string, c challenge) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.facts(host).chal = &c
}

// knownScheme returns host's scheme, "" when not known.
func (b *hostBook) knownScheme(host string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.facts(host).scheme
}

// scheme returns host's scheme when known. Otherwise, while fewer than
// racers requests are finding it out, it returns learnt: the caller finds
// it out too and must call learnt with the scheme the host answered on
// ("" when it did not answer). Beyond that it returns a channel closed
// once the scheme is known or every request finding it out has failed,
// to wait on and ask again.
func (b *hostBook) scheme(host string, racers int) (scheme string, wait <-chan struct{}, learnt func(scheme string)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f := b.facts(host)
	switch {
	case f.scheme != "":
		return f.scheme, nil, nil
	case f.racers >= racers:
		return "", f.learning, nil
	}
	if f.learning == nil {
		f.learning = make(chan struct{})
	}
	f.racers++
	ch := f.learning
	return "", nil, func(scheme string) {
		b.mu.Lock()
		defer b.mu.Unlock()
		// f, even if it was dropped meanwhile: its waiters hold ch.
		f.racers--
		if scheme != "" {
			f.scheme = scheme
		}
		if (scheme != "" || f.racers == 0) && f.learning == ch {
			close(ch)
			f.learning = nil
		}
	}
}

// len returns the number of hosts kept.
func (b *hostBook) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.hosts.len()
}
