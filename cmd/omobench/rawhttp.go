package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// connPool keeps persistent HTTP/1.1 connections to one server. The load
// generator shares the server's two cores, so it must be cheap: net/http's
// Transport runs a read and a write goroutine per connection and hands every
// request between them over channels, which cost the bench about a third of a
// core at 7,000 requests/s. Here the calling goroutine writes the request in
// one syscall and parses the answer itself with http.ReadResponse, as wrk does
// in C. Each closed-loop client takes a connection, uses it and puts it back,
// so in practice every client keeps its own.
type connPool struct {
	addr string
	mu   sync.Mutex
	free []*rawConn
}

type rawConn struct {
	nc  net.Conn
	br  *bufio.Reader
	req []byte // the request being written; reused
}

// get returns a pooled connection (reused true) or a new one.
func (p *connPool) get(ctx context.Context) (c *rawConn, reused bool, err error) {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		c := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return c, true, nil
	}
	p.mu.Unlock()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, false, err
	}
	return &rawConn{nc: nc, br: bufio.NewReaderSize(nc, 16<<10), req: make([]byte, 0, 4096)}, false, nil
}

func (p *connPool) put(c *rawConn) {
	p.mu.Lock()
	p.free = append(p.free, c)
	p.mu.Unlock()
}

// closeIdle closes every pooled connection.
func (p *connPool) closeIdle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.free {
		_ = c.nc.Close()
	}
	p.free = nil
}

// roundTrip sends one request and reads the whole answer into out (reset
// first). A connection the server closes, or that fails, is not reused. A
// kept-alive connection the server closed while it sat idle (its idle
// timeout) fails before any answer arrives: the request is sent once more on
// a new connection, as net/http's Transport does.
func (p *connPool) roundTrip(ctx context.Context, method, path, auth string, body []byte, out *bytes.Buffer) (int, error) {
	status, stale, err := p.try(ctx, method, path, auth, body, out)
	if stale {
		status, _, err = p.try(ctx, method, path, auth, body, out)
	}
	return status, err
}

// try is one attempt; stale reports a reused connection that failed before
// any byte of an answer.
func (p *connPool) try(ctx context.Context, method, path, auth string, body []byte, out *bytes.Buffer) (status int, stale bool, err error) {
	c, reused, err := p.get(ctx)
	if err != nil {
		return 0, false, err
	}
	deadline, ok := ctx.Deadline()
	if !ok || time.Until(deadline) > 30*time.Second {
		deadline = time.Now().Add(30 * time.Second)
	}
	_ = c.nc.SetDeadline(deadline)
	c.req = append(c.req[:0], method...)
	c.req = append(c.req, ' ')
	c.req = append(c.req, path...)
	c.req = append(c.req, " HTTP/1.1\r\nHost: "...)
	c.req = append(c.req, p.addr...)
	c.req = append(c.req, "\r\nAuthorization: "...)
	c.req = append(c.req, auth...)
	if body != nil {
		c.req = append(c.req, "\r\nContent-Type: application/json\r\nContent-Length: "...)
		c.req = strconv.AppendInt(c.req, int64(len(body)), 10)
	}
	c.req = append(c.req, "\r\n\r\n"...)
	c.req = append(c.req, body...)
	if _, err := c.nc.Write(c.req); err != nil {
		_ = c.nc.Close()
		return 0, reused, err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		_ = c.nc.Close()
		return 0, reused && c.br.Buffered() == 0 && errors.Is(err, io.EOF), fmt.Errorf("%s %s: %w", method, path, err)
	}
	out.Reset()
	_, err = out.ReadFrom(resp.Body)
	_ = resp.Body.Close()
	if err != nil || resp.Close {
		_ = c.nc.Close()
		return resp.StatusCode, false, err
	}
	p.put(c)
	return resp.StatusCode, false, nil
}
