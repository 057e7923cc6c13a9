package fleet

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The rendezvous protocol, one line each way over TCP, for orchestrators without a shared disk
// (a Kubernetes Indexed Job whose pod 0 is reachable through a headless Service):
//
//	segment i -> 1:  "loadplan-rendezvous v1 <i>/<N> <fingerprint>\n"
//	segment 1 -> i:  "start <agreed instant, Unix ns> <time left until it, ns>\n" | "error <text>\n"
//
// Segment 1 answers every checked-in segment once all N-1 of them (and segment 1 itself) are
// ready, with the same instant: now + margin. A segment schedules its start from the time left
// (its own clock plus the time left), not from the instant, so clocks that disagree between
// nodes do not skew the start. A segment that checks in after the start gets the same instant,
// with a negative time left: it starts at once, late, and says by how much.
const helloPrefix = "loadplan-rendezvous v1 "

// helloTimeout bounds the wait for a connected segment's hello line.
const helloTimeout = 30 * time.Second

// Server is segment 1's side of the rendezvous. It accepts check-ins from the moment Listen
// returns until Close, also after the start, so that a late segment learns the agreed instant.
type Server struct {
	ln          net.Listener
	total       int
	fingerprint string
	margin      time.Duration
	changed     chan struct{} // a segment checked in or left; buffered 1, sends never block

	// mu guards waiting, started, at and open: the accept goroutines write them, Wait reads them.
	mu      sync.Mutex
	waiting map[int]net.Conn  // checked-in segments waiting for the start
	open    map[net.Conn]bool // every connection not yet closed, for Close (a client that never says hello)
	started bool
	at      time.Time

	wg sync.WaitGroup // the accept loop and every connection's goroutine
}

// Listen starts segment 1's rendezvous on addr for a fleet of total segments; fingerprint is
// the plan's, which every segment must share.
func Listen(addr string, total int, fingerprint string, margin time.Duration) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("rendezvous: listen: %w", err)
	}
	s := &Server{ln: ln, total: total, fingerprint: fingerprint, margin: margin,
		changed: make(chan struct{}, 1), waiting: map[int]net.Conn{}, open: map[net.Conn]bool{}}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return // Close
		}
		s.mu.Lock()
		if s.open == nil { // Close ran
			s.mu.Unlock()
			c.Close()
			return
		}
		s.open[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(c)
			s.mu.Lock()
			delete(s.open, c)
			s.mu.Unlock()
		}()
	}
}

// serve handles one segment's connection: its hello, then waiting for the start (a read that
// ends when the segment hangs up, or when Wait answers and closes the connection).
func (s *Server) serve(c net.Conn) {
	c.SetReadDeadline(time.Now().Add(helloTimeout))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		c.Close()
		return
	}
	index, err := s.parseHello(strings.TrimSpace(line))
	if err != nil {
		fmt.Fprintf(c, "error %s\n", err)
		c.Close()
		return
	}
	s.mu.Lock()
	switch {
	case s.started:
		at := s.at
		s.mu.Unlock()
		if at.IsZero() { // closed before any start: hang up, the segment retries and times out
			c.Close()
			return
		}
		answer(c, at)
		return
	case s.waiting[index] != nil:
		s.mu.Unlock()
		fmt.Fprintf(c, "error segment %d/%d checked in twice: two instances run the same segment\n", index, s.total)
		c.Close()
		return
	}
	s.waiting[index] = c
	s.mu.Unlock()
	s.signal()
	c.SetReadDeadline(time.Time{})
	var b [1]byte
	c.Read(b[:]) // returns when the segment hangs up or Wait closes c
	s.mu.Lock()
	if !s.started && s.waiting[index] == c {
		delete(s.waiting, index) // it left before the start: it will check in again
		c.Close()
	}
	s.mu.Unlock()
	s.signal()
}

func (s *Server) parseHello(line string) (int, error) {
	rest, ok := strings.CutPrefix(line, helloPrefix)
	seg, fp, _ := strings.Cut(rest, " ")
	i, n, ok2 := strings.Cut(seg, "/")
	index, err1 := strconv.Atoi(i)
	total, err2 := strconv.Atoi(n)
	switch {
	case !ok || !ok2 || err1 != nil || err2 != nil:
		return 0, errors.New("not a loadplan rendezvous hello (is HOST:PORT segment 1's --rendezvous?)")
	case total != s.total:
		return 0, fmt.Errorf("segment %s, but segment 1 runs 1/%d: every instance must have the same --segment auto/N", seg, s.total)
	case index < 2 || index > total:
		return 0, fmt.Errorf("segment %s cannot check in: segment 1 is the one listening, the others are 2..%d", seg, total)
	case fp != s.fingerprint:
		return 0, fmt.Errorf("segment %s runs another plan than segment 1 (plan fingerprint %s, segment 1 has %s)", seg, fp, s.fingerprint)
	}
	return index, nil
}

func (s *Server) signal() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// answer writes the start line to c and closes it.
func answer(c net.Conn, at time.Time) {
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "start %d %d\n", at.UnixNano(), time.Until(at).Nanoseconds())
	c.Close()
}

// Wait is segment 1's own check-in: it waits until every other segment has checked in, then
// fixes the start at now + margin, answers them all and returns the instant. It fails when ctx
// ends first, naming the segments that never checked in.
func (s *Server) Wait(ctx context.Context) (time.Time, error) {
	for {
		s.mu.Lock()
		if len(s.waiting) == s.total-1 {
			s.started, s.at = true, time.Now().Add(s.margin)
			conns := s.waiting
			s.waiting = nil
			at := s.at
			s.mu.Unlock()
			for _, c := range conns {
				answer(c, at)
			}
			return at, nil
		}
		var missing []int
		for i := 2; i <= s.total; i++ {
			if s.waiting[i] == nil {
				missing = append(missing, i)
			}
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("rendezvous on %s: %d of %d segments checked in when the wait ended (%v); missing: %s",
				s.ln.Addr(), s.total-len(missing), s.total, context.Cause(ctx), Names(missing, s.total))
		case <-s.changed:
		}
	}
}

// Close stops accepting check-ins, hangs up on the segments still waiting (they retry, then time
// out) and returns when every goroutine of the server has ended.
func (s *Server) Close() error {
	err := s.ln.Close()
	s.mu.Lock()
	s.started = true // a hang-up from now on is not a segment leaving
	open := s.open
	s.waiting, s.open = nil, nil
	s.mu.Unlock()
	for c := range open {
		c.Close() // also the waiting ones, and any still to say hello
	}
	s.wg.Wait()
	return err
}

// Join is the side of segments 2..N: it dials segment 1 at addr, retrying every retry until ctx
// ends, checks in as index of total, and returns its local start instant (its clock plus the time
// left that segment 1 sent). A refusal by segment 1 (another plan, another N, the same segment
// twice) ends it at once.
func Join(ctx context.Context, addr string, index, total int, fingerprint string, retry time.Duration) (time.Time, error) {
	var last error
	for {
		at, err := joinOnce(ctx, addr, index, total, fingerprint)
		if err == nil {
			return at, nil
		}
		var refused *refusedError
		if errors.As(err, &refused) {
			return time.Time{}, err
		}
		last = err
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("rendezvous with segment 1 at %s: no start before the wait ended (%v); last attempt: %v", addr, context.Cause(ctx), last)
		case <-time.After(retry):
		}
	}
}

// refusedError is segment 1's "error" answer: retrying cannot help.
type refusedError struct{ msg string }

func (e *refusedError) Error() string { return "rendezvous: segment 1 refused: " + e.msg }

func joinOnce(ctx context.Context, addr string, index, total int, fingerprint string) (time.Time, error) {
	d := net.Dialer{Timeout: 3 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return time.Time{}, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if _, err := fmt.Fprintf(c, "%s%d/%d %s\n", helloPrefix, index, total, fingerprint); err != nil {
		return time.Time{}, err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	received := time.Now()
	if err != nil {
		return time.Time{}, fmt.Errorf("waiting for the start: %w", err)
	}
	f := strings.Fields(line)
	switch {
	case len(f) == 3 && f[0] == "start":
		left, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return time.Time{}, &refusedError{"bad start line " + strconv.Quote(line)}
		}
		return received.Add(time.Duration(left)), nil
	case len(f) > 0 && f[0] == "error":
		return time.Time{}, &refusedError{strings.TrimSpace(strings.TrimPrefix(line, "error"))}
	}
	return time.Time{}, &refusedError{"unexpected answer " + strconv.Quote(strings.TrimSpace(line))}
}
