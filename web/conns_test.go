package web

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestShutdownWithSilentConnection: a connection accepted but never sent
// a request (an HTTP client's spare dialed connection) and an idle
// keep-alive one do not hold a graceful shutdown until their read
// deadline.
func TestShutdownWithSilentConnection(t *testing.T) {
	e := shared(t)
	app, err := New(e.svc, Config{ShutdownTimeout: 5 * time.Second}, WithLogger(logger()))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, ln) }()
	// A request on a keep-alive connection, then a silent one.
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	time.Sleep(200 * time.Millisecond) // accepted and waiting for a request
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
		t.Logf("shut down in %s with a silent connection open", time.Since(start).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatal("the shutdown waited for the silent connection")
	}
}
