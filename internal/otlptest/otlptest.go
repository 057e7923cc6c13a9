// Package otlptest is a loopback OTLP/HTTP traces receiver for tests: it decodes every export
// request (protobuf, gzip or not) with the OTLP protobuf definitions, records each span with its
// ids and attributes and every request's headers, and can accept, refuse with a status, or hang
// (never answer until the client gives up or the test ends). A test then asserts that the spans
// loadplan exported are exactly those of the requests a counting server saw. Only tests import it.
package otlptest

import (
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// Mode is how a Receiver answers an export.
type Mode int

// The modes.
const (
	Accept Mode = iota // 200 with an empty ExportTraceServiceResponse; spans recorded
	Refuse             // 503; nothing recorded
	Hang               // no answer until the client gives up or the test ends; nothing recorded
)

// Span is one span a Receiver recorded.
type Span struct {
	TraceID  [16]byte
	SpanID   [8]byte
	Parent   [8]byte // zero for a root span
	Flags    uint32
	Name     string
	Kind     tracepb.Span_SpanKind
	Start    uint64 // Unix ns
	End      uint64
	Attrs    map[string]string // values rendered with %v
	Events   []Event
	Status   tracepb.Status_StatusCode
	Message  string            // the status's description
	Resource map[string]string // of the span's resource
}

// Event is one span event.
type Event struct {
	Name  string
	Time  uint64
	Attrs map[string]string
}

// Receiver is a loopback OTLP/HTTP receiver (httptest, on 127.0.0.1). It is closed when the test
// that made it ends.
type Receiver struct {
	*httptest.Server
	Requests atomic.Int64 // export requests received, whatever the mode
	// KeepExports, set before the first export, keeps every decoded request for Exports. Off by
	// default: a benchmark's receiver would keep its whole traffic on the heap.
	KeepExports bool

	mode    Mode
	release chan struct{} // closed at cleanup: hanging handlers return

	mu      sync.Mutex // guards spans, exports, headers and bad
	spans   []Span
	exports []*coltracepb.ExportTraceServiceRequest
	headers []http.Header
	bad     []string // requests that could not be decoded
}

// New starts a Receiver in mode. Its traces endpoint is URL + "/v1/traces".
func New(t testing.TB, mode Mode) *Receiver {
	t.Helper()
	r := &Receiver{mode: mode, release: make(chan struct{})}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(func() {
		close(r.release)
		r.Close()
	})
	return r
}

// RefusingURL returns the URL of a loopback port nothing listens on: a connection is refused.
func RefusingURL(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/v1/traces"
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	r.Requests.Add(1)
	switch r.mode {
	case Refuse:
		io.Copy(io.Discard, req.Body)
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	case Hang:
		select {
		case <-req.Context().Done():
		case <-r.release:
		}
		return
	}
	if req.Method != http.MethodPost || req.URL.Path != "/v1/traces" {
		r.fail(fmt.Sprintf("%s %s", req.Method, req.URL.Path))
		http.Error(w, "want POST /v1/traces", http.StatusNotFound)
		return
	}
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			r.fail("gzip: " + err.Error())
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	var msg coltracepb.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(raw, &msg)
	}
	if err != nil {
		r.fail("decode: " + err.Error())
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var got []Span
	for _, rs := range msg.ResourceSpans {
		res := attrs(rs.GetResource().GetAttributes())
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				got = append(got, span(s, res))
			}
		}
	}
	r.mu.Lock()
	r.spans = append(r.spans, got...)
	if r.KeepExports {
		r.exports = append(r.exports, &msg)
	}
	r.headers = append(r.headers, req.Header.Clone())
	r.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

func (r *Receiver) fail(why string) {
	r.mu.Lock()
	r.bad = append(r.bad, why)
	r.mu.Unlock()
}

func span(s *tracepb.Span, res map[string]string) Span {
	out := Span{Flags: s.Flags, Name: s.Name, Kind: s.Kind, Start: s.StartTimeUnixNano, End: s.EndTimeUnixNano,
		Attrs: attrs(s.Attributes), Status: s.GetStatus().GetCode(), Message: s.GetStatus().GetMessage(), Resource: res}
	copy(out.TraceID[:], s.TraceId)
	copy(out.SpanID[:], s.SpanId)
	copy(out.Parent[:], s.ParentSpanId)
	for _, e := range s.Events {
		out.Events = append(out.Events, Event{Name: e.Name, Time: e.TimeUnixNano, Attrs: attrs(e.Attributes)})
	}
	return out
}

func attrs(kvs []*commonpb.KeyValue) map[string]string {
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		v := kv.GetValue()
		switch x := v.GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			out[kv.Key] = x.StringValue
		case *commonpb.AnyValue_IntValue:
			out[kv.Key] = fmt.Sprint(x.IntValue)
		case *commonpb.AnyValue_DoubleValue:
			out[kv.Key] = fmt.Sprint(x.DoubleValue)
		case *commonpb.AnyValue_BoolValue:
			out[kv.Key] = fmt.Sprint(x.BoolValue)
		default:
			out[kv.Key] = v.String()
		}
	}
	return out
}

// Spans returns a copy of the spans recorded so far, in the order they arrived.
func (r *Receiver) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Span(nil), r.spans...)
}

// Exports returns the decoded export requests accepted so far (with KeepExports), in the order they arrived, for a
// test that compares whole messages (proto.Equal).
func (r *Receiver) Exports() []*coltracepb.ExportTraceServiceRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*coltracepb.ExportTraceServiceRequest(nil), r.exports...)
}

// Headers returns the headers of every accepted export request.
func (r *Receiver) Headers() []http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]http.Header(nil), r.headers...)
}

// Bad returns why requests could not be decoded (empty when every one could).
func (r *Receiver) Bad() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bad...)
}
