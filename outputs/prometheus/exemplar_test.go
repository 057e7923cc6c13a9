package prometheus

import (
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/loadplan/loadplan/metrics"
)

// span returns a sampled span whose ids are made from n, so a test knows what to look for.
func span(n byte, sampled bool) *metrics.TraceSpan {
	s := &metrics.TraceSpan{Sampled: sampled}
	for i := range s.TraceID {
		s.TraceID[i] = n + byte(i)
	}
	for i := range s.SpanID {
		s.SpanID[i] = 0xa0 + n + byte(i)
	}
	return s
}

func traceID(s *metrics.TraceSpan) string { return hex.EncodeToString(s.TraceID[:]) }

// openMetrics scrapes p's handler with the OpenMetrics Accept header Prometheus sends.
func openMetrics(t *testing.T, p *Output) string {
	t.Helper()
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0;q=0.75,text/plain;version=0.0.4;q=0.5")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/openmetrics-text") {
		t.Fatalf("content type %q", ct)
	}
	return string(b)
}

// TestExemplarsExposed: the latest sampled trace of each classic bucket is that bucket's
// exemplar in the OpenMetrics exposition (trace_id and span_id in lowercase hex, the value in
// seconds, the sample's time), a value past the last bound on the +Inf bucket; an unsampled span
// and a series without spans give none; the native histogram carries the same exemplars.
func TestExemplarsExposed(t *testing.T) {
	p := newOutput(t, Config{TestID: "ex"})
	t0 := time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC).UnixNano()
	old, fast, slow, huge, unsampled := span(1, true), span(2, true), span(3, true), span(4, true), span(5, false)
	ws := span(6, true)
	// Each Emit is one delta, which carries the latest sampled span of its series.
	for _, x := range []metrics.Sample{
		{Metric: metrics.HTTPReqDuration, Time: t0, Value: 3, Tags: quote, Status: 200, Span: old},
		{Metric: metrics.HTTPReqDuration, Time: t0 + 1e9, Value: 4, Tags: quote, Status: 200, Span: fast}, // same bucket, later: kept
		{Metric: metrics.HTTPReqDuration, Time: t0 + 2e9, Value: 4.5, Tags: quote, Status: 200, Span: unsampled},
		{Metric: metrics.HTTPReqDuration, Time: t0, Value: 7, Tags: quote, Status: 200},
		{Metric: metrics.HTTPReqDuration, Time: t0 + 3e9, Value: 180, Tags: quote, Status: 200, Span: slow},
		{Metric: metrics.HTTPReqDuration, Time: t0 + 4e9, Value: 75000, Tags: quote, Status: 200, Span: huge},
		{Metric: metrics.HTTPReqDuration, Time: t0, Value: 9, Tags: quote, Status: 500},
		{Metric: metrics.WSConnecting, Time: t0 + 5e9, Value: 2, Tags: ack, Span: ws},
		// An older span in a bucket that has a newer one does not replace it.
		{Metric: metrics.HTTPReqDuration, Time: t0 - 1e9, Value: 4.2, Tags: quote, Status: 200, Span: span(9, true)},
	} {
		p.Emit([]metrics.Sample{x})
	}
	// Within one delta only the slowest sampled span counts (metrics.Series.Exemplar).
	p.Emit([]metrics.Sample{
		{Metric: metrics.HTTPReqDuration, Time: t0 + 6e9, Value: 40, Tags: quote, Status: 200, Span: span(10, true)},
		{Metric: metrics.HTTPReqDuration, Time: t0 + 7e9, Value: 45, Tags: quote, Status: 200, Span: span(11, true)},
	})

	text := openMetrics(t, p)
	const labels = `method="GET",name="/api/stocks/${symbol}",scenario="rest",segment="1/2",status="200",step="quote",target="api",testid="ex"`
	exemplar := func(s *metrics.TraceSpan, v string, at int64) string {
		return fmt.Sprintf(`# {trace_id="%s",span_id="%s"} %s %v`, traceID(s), hex.EncodeToString(s.SpanID[:]), v, float64(at)/1e9)
	}
	for _, want := range []string{
		`loadplan_http_req_duration_seconds_bucket{` + labels + `,le="0.005"} 4 ` + exemplar(fast, "0.004", t0+1e9),
		`loadplan_http_req_duration_seconds_bucket{` + labels + `,le="0.05"} 7 ` + exemplar(span(11, true), "0.045", t0+7e9),
		`loadplan_http_req_duration_seconds_bucket{` + labels + `,le="0.25"} 8 ` + exemplar(slow, "0.18", t0+3e9),
		`loadplan_http_req_duration_seconds_bucket{` + labels + `,le="+Inf"} 9 ` + exemplar(huge, "75.0", t0+4e9),
		`loadplan_ws_connecting_seconds_bucket{method="WS",name="/ws",scenario="stream",segment="1/2",step="osc.ack",target="api",testid="ex",le="0.0025"} 1 ` + exemplar(ws, "0.002", t0+5e9),
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("exposition lacks\n%s\n", want)
		}
	}
	if n := strings.Count(text, "# {"); n != 5 {
		t.Errorf("%d exemplars exposed, want 5:\n%s", n, text)
	}
	for _, s := range []*metrics.TraceSpan{old, unsampled, span(9, true), span(10, true)} {
		if strings.Contains(text, traceID(s)) {
			t.Errorf("trace %s is exposed: older than its bucket's, or unsampled", traceID(s))
		}
	}

	// The native histogram (protobuf, what Prometheus with native histograms scrapes) has the
	// same exemplars, in time order.
	mfs, err := p.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, mf := range mfs {
		if mf.GetName() != "loadplan_http_req_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, e := range m.GetHistogram().GetExemplars() {
				got = append(got, exemplarText(e))
			}
		}
	}
	want := []string{traceID(fast) + "@0.004", traceID(slow) + "@0.18", traceID(huge) + "@75", traceID(span(11, true)) + "@0.045"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("native exemplars %v, want %v", got, want)
	}
}

func exemplarText(e *dto.Exemplar) string {
	for _, l := range e.GetLabel() {
		if l.GetName() == traceIDLabel {
			return fmt.Sprintf("%s@%v", l.GetValue(), e.GetValue())
		}
	}
	return "?"
}

// TestExemplarOfADeltaIsItsSlowest: of the sampled requests of one delta (the aggregator's 250
// ms), the slowest is the one exposed, even when a faster one came after it: a tail request's
// trace is what a latency spike's exemplar must lead to.
func TestExemplarOfADeltaIsItsSlowest(t *testing.T) {
	p := newOutput(t, Config{TestID: "ex"})
	t0 := time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC).UnixNano()
	slow, fast := span(1, true), span(2, true)
	p.Emit([]metrics.Sample{
		{Metric: metrics.HTTPReqDuration, Time: t0, Value: 180, Tags: quote, Status: 200, Span: slow},
		{Metric: metrics.HTTPReqDuration, Time: t0 + 1e6, Value: 4, Tags: quote, Status: 200, Span: fast},
	})
	text := openMetrics(t, p)
	if !strings.Contains(text, `le="0.25"} 2 # {trace_id="`+traceID(slow)+`"`) || strings.Contains(text, traceID(fast)) {
		t.Errorf("the delta's exemplar is not its slowest request's (%s), or the faster one's (%s) is exposed:\n%s",
			traceID(slow), traceID(fast), text)
	}
}
