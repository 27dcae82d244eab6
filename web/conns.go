package web

import (
	"net"
	"sync"

	"github.com/gofiber/fiber/v2"
)

// connTracker knows the server's open connections and which of them are
// running a handler. fasthttp's graceful shutdown waits for a connection
// that was accepted but never sent a request (an HTTP client keeps a spare
// dialed connection for later; browsers pre-connect) until its read
// deadline, a minute: on shutdown the app closes the connections that are
// not running a handler, as fasthttp does with idle ones.
type connTracker struct {
	mu    sync.Mutex
	conns map[net.Conn]int // -> handlers running on it
}

func newConnTracker() *connTracker { return &connTracker{conns: map[net.Conn]int{}} }

// listener wraps ln so that its connections are tracked.
func (t *connTracker) listener(ln net.Listener) net.Listener { return trackedListener{ln, t} }

type trackedListener struct {
	net.Listener
	t *connTracker
}

func (l trackedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	tc := &trackedConn{Conn: c, t: l.t}
	l.t.mu.Lock()
	l.t.conns[tc] = 0
	l.t.mu.Unlock()
	return tc, nil
}

type trackedConn struct {
	net.Conn
	t    *connTracker
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.t.mu.Lock()
		delete(c.t.conns, c)
		c.t.mu.Unlock()
	})
	return c.Conn.Close()
}

// busy marks the request's connection as running a handler until it
// returns.
func (t *connTracker) busy(c *fiber.Ctx) error {
	nc := c.Context().Conn()
	t.mu.Lock()
	if _, ok := t.conns[nc]; ok {
		t.conns[nc]++
	}
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		if n, ok := t.conns[nc]; ok && n > 0 {
			t.conns[nc] = n - 1
		}
		t.mu.Unlock()
	}()
	return c.Next()
}

// closeWaiting closes the connections not running a handler.
func (t *connTracker) closeWaiting() {
	t.mu.Lock()
	var idle []net.Conn
	for c, n := range t.conns {
		if n == 0 {
			idle = append(idle, c)
		}
	}
	t.mu.Unlock()
	for _, c := range idle {
		_ = c.Close()
	}
}
