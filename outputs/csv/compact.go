package csv

import (
	"strconv"
	"strings"

	"github.com/loadplan/loadplan/metrics"
)

// Columns are the columns of the compact layout, the default: one row per HTTP request with all
// its timings, and one row per other sample (WebSocket, iterations, vus …) with its value.
//
//   - metric_name, timestamp, metric_value: as in the long layout. A request row is named
//     http_reqs with the value 1 when the request left the machine (so the rows named http_reqs
//     are the summary's http_reqs), http_req_failed with the value 1 when it never did
//     (connection refused, DNS). timestamp is when the response ended (Unix seconds, µs).
//   - scenario … target: the step's tags, as in the long layout.
//   - status, failed (0 or 1, http_req_failed's value), error (the errors kind: "timeout",
//     "connection refused" …; on another sample its error label).
//   - duration_ms … receiving_ms: http_req_duration, _service_time, _blocked, _connecting,
//     _tls_handshaking, _sending, _waiting and _receiving, in milliseconds; empty when no response
//     came (no latency, as the summary counts it), so pandas reads NaN, not 0.
//   - sent_bytes, received_bytes: data_sent and data_received of the request.
//   - checks_passed, checks_failed: how many of the step's checks passed and failed on this
//     response; check: the names of the failed ones, " | " between them (on a WebSocket checks
//     row, the check's name). The long layout keeps one row per check.
//   - trace_id (TraceColumn), last, only when the plan has tracing: the request's trace id when
//     it was sampled or failed.
var Columns = []string{
	"metric_name", "timestamp", "metric_value",
	"scenario", "step", "group", "method", "url", "target",
	"status", "failed", "error",
	"duration_ms", "service_time_ms", "blocked_ms", "connecting_ms", "tls_handshaking_ms",
	"sending_ms", "waiting_ms", "receiving_ms", "sent_bytes", "received_bytes",
	"checks_passed", "checks_failed", "check",
}

var compactHeader = strings.Join(Columns, ",") + "\n"

// requestName and failedName lead a request row: "http_reqs,T,1," or "http_req_failed,T,1,".
var (
	reqName    = []byte(metrics.HTTPReqs.String() + ",")
	failedName = []byte(metrics.HTTPReqFailed.String() + ",")
)

// appendRequest appends the compact row of r, with its newline, to b.
func (e *encoder) appendRequest(b []byte, r *reqRow) []byte {
	if r.has(fReqs) {
		b = append(b, reqName...)
	} else {
		b = append(b, failedName...)
	}
	b = e.appendTime(b, r.t1)
	b = append(b, "1,"...)
	b = append(b, e.staticCols(r.tags)...)
	if r.status != 0 {
		b = strconv.AppendInt(b, int64(r.status), 10)
	}
	b = append(b, ',')
	if r.has(fFailed) {
		b = appendValue(b, r.failed)
	}
	b = append(b, ',')
	if r.err != "" {
		b = appendField(b, r.err)
	}
	for i := range r.vals {
		b = append(b, ',')
		if r.has(fDuration + field(i)) {
			b = appendValue(b, r.vals[i])
		}
	}
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(r.checksPassed), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(r.checksFailed), 10)
	b = append(b, ',')
	if len(r.failedChecks) > 0 {
		b = appendField(b, string(r.failedChecks))
	}
	return e.endRow(b, r.span)
}

// emptyMiddle is the columns from duration_ms to checks_failed of a row that is not a request's.
var emptyMiddle = strings.Repeat(",", numVals+2)

// appendOther appends the compact row of a sample that is no HTTP request's, with its newline.
func (e *encoder) appendOther(b []byte, s *metrics.Sample) []byte {
	b = e.lead(b, s.Metric, s.Time)
	b = appendValue(b, s.Value)
	b = append(b, ',')
	b = append(b, e.staticCols(s.Tags)...)
	if s.Status != 0 {
		b = strconv.AppendInt(b, int64(s.Status), 10)
	}
	b = append(b, ",,"...) // failed: a request's only
	if s.Label != "" && s.Metric != metrics.Checks {
		b = appendField(b, s.Label)
	}
	b = append(b, emptyMiddle...)
	b = append(b, ',')
	if s.Label != "" && s.Metric == metrics.Checks {
		b = appendField(b, s.Label)
	}
	return e.endRow(b, rowSpan(s))
}
