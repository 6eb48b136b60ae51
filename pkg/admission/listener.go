package admission

import (
	"net"
	"sync"
	"sync/atomic"
)

// LimitListener bounds the connections ln hands out: at most max open at
// once (Accept waits for one to close, so further clients wait in the
// kernel's accept queue and cost no file descriptor), and at most perClient
// from one client IP address (more are closed as soon as they are
// accepted). A non-positive max or perClient leaves that bound off.
//
// It keeps idle keep-alive connections from exhausting file descriptors and
// memory (~38 KB per idle TLS connection). The API server reaches a replica
// over a few long-lived HTTP/2 connections, far below either bound.
func LimitListener(ln net.Listener, max, perClient int) *LimitedListener {
	l := &LimitedListener{Listener: ln, perClient: perClient, clients: map[string]int{}, done: make(chan struct{})}
	if max > 0 {
		l.slots = make(chan struct{}, max)
	}
	return l
}

// LimitedListener is a net.Listener with connection limits; see
// LimitListener.
type LimitedListener struct {
	net.Listener
	slots     chan struct{} // one token per open connection; nil: no bound
	perClient int
	open      atomic.Int64
	refused   atomic.Uint64

	mu      sync.Mutex
	clients map[string]int // open connections per client IP

	closeOnce sync.Once
	done      chan struct{}
}

// Accept waits for a free slot, then for a connection from a client below
// its bound.
func (l *LimitedListener) Accept() (net.Conn, error) {
	for {
		if l.slots != nil {
			select {
			case l.slots <- struct{}{}:
			case <-l.done:
				return nil, net.ErrClosed
			}
		}
		c, err := l.Listener.Accept()
		if err != nil {
			l.freeSlot()
			return nil, err
		}
		ip := clientIP(c.RemoteAddr())
		if !l.admit(ip) {
			l.refused.Add(1)
			_ = c.Close()
			l.freeSlot()
			continue
		}
		l.open.Add(1)
		return &limitedConn{Conn: c, l: l, ip: ip}, nil
	}
}

// Close closes the listener and ends an Accept waiting for a slot.
func (l *LimitedListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// Open is the number of connections open now.
func (l *LimitedListener) Open() int { return int(l.open.Load()) }

// Refused is the number of connections closed at accept because their
// client had perClient open.
func (l *LimitedListener) Refused() uint64 { return l.refused.Load() }

func (l *LimitedListener) admit(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.perClient > 0 && l.clients[ip] >= l.perClient {
		return false
	}
	l.clients[ip]++
	return true
}

func (l *LimitedListener) release(ip string) {
	l.mu.Lock()
	if l.clients[ip]--; l.clients[ip] <= 0 {
		delete(l.clients, ip)
	}
	l.mu.Unlock()
	l.open.Add(-1)
	l.freeSlot()
}

func (l *LimitedListener) freeSlot() {
	if l.slots != nil {
		<-l.slots
	}
}

// clientIP is the address's IP, or the whole address when it has no port.
func clientIP(a net.Addr) string {
	if a == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// limitedConn gives its slot back when closed, once.
type limitedConn struct {
	net.Conn
	l    *LimitedListener
	ip   string
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.ip) })
	return err
}
