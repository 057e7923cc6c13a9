package otlp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// maxResponse bounds what is read of a collector's answer: a partial success is a few bytes, an
// error body is only quoted in a warning.
const maxResponse = 64 << 10

// exporter is the sdktrace.SpanExporter that posts spans to an OTLP/HTTP traces endpoint. It is
// what otlptracehttp does with the options Start gave it (no retry, no compression, one timeout
// per export), without importing go.opentelemetry.io/proto/otlp/collector/trace/v1, whose gRPC
// service definitions bring grpc and grpc-gateway into the binary (see the package doc).
//
// The body is a trace/v1 TracesData: its field 1, resource_spans, is the same field, number and
// type as ExportTraceServiceRequest's, so the bytes are those of the request the collector
// decodes (TestExporterMatchesOTLPTraceHTTP holds it to otlptracehttp's). Its methods are called
// from the writer goroutine only.
type exporter struct {
	url     string
	headers map[string]string
	client  *http.Client
}

// newExporter makes the exporter of endpoint (an http(s) URL with its path).
func newExporter(endpoint string, headers map[string]string, timeout time.Duration) (*exporter, error) {
	p, err := url.Parse(endpoint)
	if err != nil {
		return nil, err
	}
	// Scheme, host and path only, as otlptracehttp's WithEndpointURL took them: no user info
	// (no Basic auth: credentials go in Headers), no query.
	u := url.URL{Scheme: p.Scheme, Host: p.Host, Path: p.Path}
	h := make(map[string]string, len(headers))
	for k, v := range headers {
		h[k] = v
	}
	// Proxy and TLS settings as http.DefaultTransport's, but its own idle connections, closed at
	// Shutdown.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	return &exporter{url: u.String(), headers: h, client: &http.Client{Transport: tr, Timeout: timeout}}, nil
}

// partialError is a collector's partial success: it took the batch but rejected some spans.
type partialError struct {
	rejected int64
	msg      string
}

func (e *partialError) Error() string {
	return fmt.Sprintf("the collector rejected %d spans: %s", e.rejected, e.msg)
}

// ExportSpans posts spans in one request. A status other than 2xx is an error (with the start of
// the body the collector gave as the reason), and so is a partial success (a *partialError).
func (e *exporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if len(spans) == 0 {
		return nil
	}
	// A fresh buffer per export: the transport may still read a body after Do returned.
	body, err := proto.Marshal(tracesData(spans))
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "loadplan")
	for k, v := range e.headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	resp, err := e.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		reason := strings.TrimSpace(string(answer))
		if reason == "" {
			reason = "(empty)"
		}
		return fmt.Errorf("%s: %s", resp.Status, reason)
	}
	if err != nil || resp.Header.Get("Content-Type") != "application/x-protobuf" {
		return nil // the spans were taken; only the answer's details are lost
	}
	if n, msg := partialSuccess(answer); n != 0 || msg != "" {
		return &partialError{rejected: n, msg: msg}
	}
	return nil
}

// Shutdown closes the idle connections: nothing is buffered here.
func (e *exporter) Shutdown(context.Context) error {
	e.client.CloseIdleConnections()
	return nil
}

// partialSuccess reads an ExportTraceServiceResponse's partial_success (field 1: rejected_spans,
// field 1, and error_message, field 2) with protowire, not with the collector package.
func partialSuccess(b []byte) (rejected int64, msg string) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, ""
		}
		b = b[n:]
		if num != 1 || typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return 0, ""
			}
			b = b[n:]
			continue
		}
		ps, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return 0, ""
		}
		b = b[n:]
		for len(ps) > 0 {
			pnum, ptyp, m := protowire.ConsumeTag(ps)
			if m < 0 {
				return 0, ""
			}
			ps = ps[m:]
			switch {
			case pnum == 1 && ptyp == protowire.VarintType:
				v, k := protowire.ConsumeVarint(ps)
				if k < 0 {
					return 0, ""
				}
				rejected, m = int64(v), k
			case pnum == 2 && ptyp == protowire.BytesType:
				v, k := protowire.ConsumeBytes(ps)
				if k < 0 {
					return 0, ""
				}
				msg, m = string(v), k
			default:
				if m = protowire.ConsumeFieldValue(pnum, ptyp, ps); m < 0 {
					return 0, ""
				}
			}
			ps = ps[m:]
		}
	}
	return rejected, msg
}

// errRejected reports how many spans of a failed export the collector rejected, when it said
// (a partial success), and whether it did.
func errRejected(err error) (int64, bool) {
	var p *partialError
	if errors.As(err, &p) {
		return p.rejected, true
	}
	return 0, false
}
