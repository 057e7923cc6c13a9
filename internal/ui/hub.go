package ui

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// streamWriteTimeout drops a browser whose connection has not taken one frame in this long (a
// suspended laptop, a dead link): its handler returns instead of holding a goroutine forever.
const streamWriteTimeout = 15 * time.Second

// hub hands the latest encoded frame to every connected browser. publish never waits: each
// client has a queue of one frame, and a newer frame replaces one the client has not taken yet
// (frames are whole states, so the newer one says everything the older did).
type hub struct {
	mu      sync.Mutex // guards latest and clients; held by publish while it fills the queues
	latest  []byte
	clients map[*client]struct{}

	published atomic.Uint64 // frames published
	replaced  atomic.Uint64 // frames a slow client never took, replaced by a newer one
}

// client is one event stream. Only publish sends on ch (under hub.mu), only the stream's handler
// receives, so a drained slot can always be refilled without blocking.
type client struct {
	ch chan []byte
}

func newHub() *hub { return &hub{clients: map[*client]struct{}{}} }

// publish makes frame the latest and queues it for every client, replacing an unread one.
func (h *hub) publish(frame []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.latest = frame
	h.published.Add(1)
	for c := range h.clients {
		select {
		case c.ch <- frame:
			continue
		default:
		}
		select {
		case <-c.ch:
			h.replaced.Add(1)
		default: // the handler took it in between
		}
		c.ch <- frame // the slot is free: only publish fills it, and we hold mu
	}
}

// join registers a client and queues the latest frame for it.
func (h *hub) join() *client {
	c := &client{ch: make(chan []byte, 1)}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.latest != nil {
		c.ch <- h.latest
	}
	h.clients[c] = struct{}{}
	return c
}

func (h *hub) leave(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.clients, c)
}

// clientCount is the number of open event streams.
func (h *hub) clientCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

// serveEvents is the event stream (text/event-stream): every frame as one "data:" line of JSON,
// the latest at once, then each new one, until the browser leaves or the server closes.
func (h *hub) serveEvents(quit <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		// A browser reconnects by itself after a dropped stream; 2 s keeps a restarted
		// `loadplan ui` from being hammered.
		fmt.Fprint(w, "retry: 2000\n\n")
		if rc.Flush() != nil {
			return
		}
		c := h.join()
		defer h.leave(c)
		for {
			select {
			case <-r.Context().Done():
				return
			case <-quit:
				return
			case frame := <-c.ch:
				_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
				if _, err := fmt.Fprintf(w, "data: %s\n\n", frame); err != nil {
					return
				}
				if rc.Flush() != nil {
					return
				}
			}
		}
	})
}
