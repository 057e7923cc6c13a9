package prometheus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/snappy"
	"google.golang.org/protobuf/proto"
)

// writeLoop is the one writer: it sends the queued writes in order until the flusher has queued
// its last one and the queue is empty, or ctx ends.
func (rw *RemoteWrite) writeLoop(ctx context.Context) {
	defer close(rw.writerDone)
	for {
		w := rw.take()
		if w == nil && rw.flushedLast.Load() {
			// The flusher queued its last write before setting flushedLast: look once more.
			if w = rw.take(); w == nil {
				return
			}
		}
		if w == nil {
			select {
			case <-rw.wake:
			case <-ctx.Done():
				return
			}
			continue
		}
		if err := rw.send(ctx, w); err != nil {
			rw.drop(w)
			if ctx.Err() != nil {
				return
			}
			if now := time.Now(); now.Sub(rw.lastWarn) >= rwWarnEvery {
				rw.lastWarn = now
				rw.logf("prometheus_remote_write: write to %s failed, %d points dropped so far: %s",
					rw.shownURL, rw.dropped.Load(), rw.scrub(err))
			}
		}
	}
}

// rwStatusError is a receiver's answer other than 2xx.
type rwStatusError struct {
	code int
	body string // the start of the answer's body
}

func (e *rwStatusError) Error() string {
	return fmt.Sprintf("HTTP %d %s: %s", e.code, http.StatusText(e.code), e.body)
}

// retryable says whether a failed attempt may succeed later: network errors, 5xx and 429.
func retryable(err error) bool {
	var se *rwStatusError
	if errors.As(err, &se) {
		return se.code/100 == 5 || se.code == http.StatusTooManyRequests
	}
	return true // the request did not get an answer
}

// backoff is the wait after the attempt-th failed attempt (1-based): rwMinBackoff doubled each
// time, never more than rwMaxBackoff.
func backoff(attempt int) time.Duration {
	d := rwMinBackoff
	for i := 1; i < attempt && d < rwMaxBackoff; i++ {
		d *= 2
	}
	return min(d, rwMaxBackoff)
}

// send delivers w: encoded once, posted up to rwMaxAttempts times while the failure is
// retryable, waiting backoff (or the receiver's Retry-After, within the same bound) between.
// A receiver that refuses native histograms turns them off for the rest of the run and gets the
// write again without them.
func (rw *RemoteWrite) send(ctx context.Context, w *rwWrite) error {
	native := rw.native.Load()
	body, err := encode(w, native)
	if err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		retryAfter, err := rw.post(ctx, body)
		if err == nil {
			rw.sent.Add(1)
			return nil
		}
		if native && refusesNative(err) {
			native = false
			rw.native.Store(false)
			rw.logf("prometheus_remote_write: %s does not take native histograms; sending classic buckets only (set native_histograms = false to say so)", rw.shownURL)
			if body, err = encode(w, false); err != nil {
				return err
			}
			continue
		}
		if !retryable(err) || attempt >= rwMaxAttempts || ctx.Err() != nil {
			return err
		}
		wait := backoff(attempt)
		if retryAfter > wait {
			wait = min(retryAfter, rwMaxBackoff)
		}
		if !rw.sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}

// refusesNative recognises Prometheus's answer to a native histogram when its native histograms
// are off ("native histograms are disabled").
func refusesNative(err error) bool {
	var se *rwStatusError
	return errors.As(err, &se) && strings.Contains(strings.ToLower(se.body), "native histogram")
}

// encode marshals w's request (without native histograms unless native) and compresses it with
// snappy's block format, as remote write 1.0 requires.
func encode(w *rwWrite, native bool) ([]byte, error) {
	b, err := proto.Marshal(w.request(native))
	if err != nil {
		return nil, fmt.Errorf("prometheus_remote_write: encode: %w", err)
	}
	return snappy.Encode(nil, b), nil
}

// post makes one attempt; on a 429 or 503 it returns the receiver's Retry-After.
func (rw *RemoteWrite) post(ctx context.Context, body []byte) (time.Duration, error) {
	rw.attempts.Add(1)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rw.url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	for k, v := range rw.headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	req.Header.Set("User-Agent", "loadplan")
	resp, err := rw.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // so that the connection is kept
	if resp.StatusCode/100 == 2 {
		return 0, nil
	}
	var after time.Duration
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		after = time.Duration(s) * time.Second
	}
	return after, &rwStatusError{code: resp.StatusCode, body: strings.TrimSpace(string(msg))}
}

// scrub keeps the headers' values (tokens, passwords) out of a message.
func (rw *RemoteWrite) scrub(err error) string {
	s := err.Error()
	for _, v := range rw.headers {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "(hidden)")
		}
		// A "Bearer TOKEN" or "Basic CREDENTIALS" header: the credential alone may be echoed.
		if _, cred, ok := strings.Cut(v, " "); ok && len(cred) >= 4 {
			s = strings.ReplaceAll(s, cred, "(hidden)")
		}
	}
	return s
}
