package admission

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// acceptAll accepts from l until it is closed, handing connections out.
func acceptAll(t *testing.T, l net.Listener) <-chan net.Conn {
	t.Helper()
	conns := make(chan net.Conn, 100)
	go func() {
		defer close(conns)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns <- c
		}
	}()
	return conns
}

func dial(t *testing.T, l net.Listener) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedByServer reports whether the server side closed c (a read ends in
// EOF or a reset rather than waiting).
func closedByServer(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func TestLimitListenerPerClient(t *testing.T) {
	l := LimitListener(listen(t), 0, 2)
	defer l.Close()
	conns := acceptAll(t, l)
	dial(t, l)
	dial(t, l)
	a, b := <-conns, <-conns
	third := dial(t, l)
	if !closedByServer(third) {
		t.Fatal("a third connection from one client was kept open")
	}
	if l.Refused() != 1 || l.Open() != 2 {
		t.Errorf("refused %d open %d, want 1 and 2", l.Refused(), l.Open())
	}
	// Closing one (twice: counted once) frees its place.
	a.Close()
	a.Close()
	dial(t, l)
	c := <-conns
	if l.Open() != 2 {
		t.Errorf("open %d, want 2", l.Open())
	}
	b.Close()
	c.Close()
	if l.Open() != 0 {
		t.Errorf("open %d after closing all, want 0", l.Open())
	}
}

func TestLimitListenerTotal(t *testing.T) {
	l := LimitListener(listen(t), 2, 0)
	conns := acceptAll(t, l)
	dial(t, l)
	dial(t, l)
	a := <-conns
	<-conns
	third := dial(t, l) // completes in the kernel's queue, not accepted
	select {
	case <-conns:
		t.Fatal("a third connection was accepted above the limit")
	case <-time.After(200 * time.Millisecond):
	}
	a.Close()
	c := <-conns
	if _, err := third.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
		t.Errorf("the waiting connection is not the one accepted: %v", err)
	}
	// Close ends an Accept waiting for a slot.
	l.Close()
	if _, ok := <-conns; ok {
		t.Error("accepted after Close")
	}
}
