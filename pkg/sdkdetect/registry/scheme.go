package registry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"
)

// httpsPreference is how long a registry's HTTPS answer is waited for once
// its plain-HTTP twin has answered (ggcr's ping gives HTTPS as long before
// it tries HTTP).
const httpsPreference = 300 * time.Millisecond

// attempt is one scheme's try of a request.
type attempt struct {
	scheme string
	resp   *http.Response
	err    error
	cancel context.CancelFunc
}

// answered reports whether a sent the registry's answer. A plain-HTTP 400
// does not count: it is what an HTTPS server answers a plain request with.
func (a *attempt) answered() bool {
	return a.err == nil && (a.scheme == "https" || a.resp.StatusCode != http.StatusBadRequest)
}

// discard closes a's response and ends its request.
func (a *attempt) discard() {
	if a.resp != nil {
		io.Copy(io.Discard, io.LimitReader(a.resp.Body, 4<<10))
		a.resp.Body.Close()
	}
	a.cancel()
}

// raceSchemes sends req over HTTPS and plain HTTP at once, for a registry
// that may speak either (an insecure one, or one ggcr takes for local) and
// whose scheme is not known yet. HTTPS wins when it answers; HTTP's
// answer is taken once HTTPS has failed, or httpsPreference after both
// were sent. scheme is the one answering; "" when neither did. The
// request must have no body (registry reads are GET and HEAD).
func raceSchemes(rt http.RoundTripper, req *http.Request) (resp *http.Response, scheme string, err error) {
	ch := make(chan *attempt, 2)
	for _, scheme := range [...]string{"https", "http"} {
		ctx, cancel := context.WithCancel(req.Context())
		r := req.Clone(ctx)
		r.URL.Scheme = scheme
		go func() {
			a := &attempt{scheme: scheme, cancel: cancel}
			a.resp, a.err = rt.RoundTrip(r)
			ch <- a
		}()
	}
	timer := time.NewTimer(httpsPreference)
	defer timer.Stop()
	var secure, plain *attempt
	late := false
	for {
		select {
		case a := <-ch:
			if a.scheme == "https" {
				secure = a
			} else {
				plain = a
			}
		case <-timer.C:
			late = true
		}
		var win, lose *attempt
		switch {
		case secure != nil && secure.answered():
			win, lose = secure, plain
		case secure != nil && plain != nil:
			win, lose = plain, secure
		case plain != nil && plain.answered() && late:
			win, lose = plain, secure
		default:
			continue
		}
		if lose != nil {
			lose.discard()
		} else {
			go func() { (<-ch).discard() }()
		}
		if win.err != nil {
			win.cancel()
			return nil, "", errors.Join(secure.err, plain.err)
		}
		win.resp.Body = &cancelBody{ReadCloser: win.resp.Body, cancel: win.cancel}
		return win.resp, win.scheme, nil
	}
}

// cancelBody ends its request's context when closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
