package step

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/loadplan/loadplan/plan"
)

// TestTraceHeaders: traceparent and b3 have their formats, with the iteration's trace id, the
// request's span id and the sampled flag; a new iteration changes the trace id; baggage is
// percent-encoded; a header the plan sets itself is not added.
func TestTraceHeaders(t *testing.T) {
	tr := NewTrace()
	w3c := CompileTrace(&plan.Tracing{Propagator: "w3c", Sampling: 1, Baggage: plan.BaggageItems}, "my run", "s,1", `st"ep`, nil)
	if w3c.Baggage != "loadplan.run=my%20run,loadplan.scenario=s%2C1,loadplan.step=st%22ep" {
		t.Errorf("baggage %q", w3c.Baggage)
	}
	hdr := http.Header{}
	id, sampled := tr.NewSpan(w3c)
	tr.Inject(hdr, w3c, id, sampled)
	re := regexp.MustCompile(`^00-[0-9a-f]{32}-[0-9a-f]{16}-01$`)
	if got := hdr.Get("Traceparent"); !re.MatchString(got) || got[3:35] != hexOf(tr.TraceID[:]) || got[36:52] != hexOf(id[:]) {
		t.Errorf("traceparent %q (trace %x span %x)", got, tr.TraceID, id)
	}
	first := tr.TraceID
	tr.Begin()
	if tr.TraceID == first {
		t.Error("Begin kept the trace id")
	}
	b3 := CompileTrace(&plan.Tracing{Propagator: "b3", Sampling: 0}, "r", "s", "a", nil)
	id, sampled = tr.NewSpan(b3)
	if v := tr.HeaderValue(b3, id, sampled); v != hexOf(tr.TraceID[:])+"-"+hexOf(id[:])+"-0-"+hexOf(tr.Root[:]) {
		t.Errorf("b3 %q", v)
	}
	own := CompileTrace(&plan.Tracing{Propagator: "w3c", Sampling: 1}, "r", "s", "a",
		[]plan.KV{{Name: "traceparent", Value: plan.Literal("x")}})
	if own != nil {
		t.Errorf("the plan sets traceparent itself: want no tracing, got %+v", own)
	}
	if CompileTrace(&plan.Tracing{Propagator: "none"}, "r", "s", "a", nil) != nil || CompileTrace(nil, "r", "s", "a", nil) != nil {
		t.Error("off, yet a TraceConf")
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// BenchmarkTraceRequest is what tracing adds to one request of a one-request iteration: a new
// trace (Begin), a span id, the traceparent formatted into the VU's buffer and set with the
// baggage into the request's header map (go test -bench TraceRequest -benchmem ./executor/step/).
func BenchmarkTraceRequest(b *testing.B) {
	tr := NewTrace()
	c := CompileTrace(&plan.Tracing{Propagator: "w3c", Sampling: 0.1, Baggage: plan.BaggageItems}, "run", "s", "a", nil)
	hdr := make(http.Header, 8)
	b.ReportAllocs()
	for b.Loop() {
		tr.Begin()
		id, sampled := tr.NewSpan(c)
		clear(hdr)
		tr.Inject(hdr, c, id, sampled)
	}
}
