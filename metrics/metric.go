// Package metrics is the leaf package shared by plan, executor and outputs: the Sample that flows
// from VUs to outputs, the catalogue of metric names and kinds, mergeable histograms, the
// aggregation Store, and the threshold grammar.
package metrics

// Kind is how a metric aggregates, as in k6: counters add, gauges keep the last value, rates count
// the share of non-zero samples, trends keep a distribution.
type Kind uint8

const (
	Counter Kind = iota + 1
	Gauge
	Rate
	Trend
)

func (k Kind) String() string {
	switch k {
	case Counter:
		return "counter"
	case Gauge:
		return "gauge"
	case Rate:
		return "rate"
	case Trend:
		return "trend"
	}
	return "unknown"
}

// Unit is what a metric's values measure. Time values are milliseconds in a Sample (k6's
// convention); outputs that want base units (Prometheus) divide by 1000.
type Unit uint8

const (
	None Unit = iota
	Time
	Bytes
)

// Metric identifies a built-in metric. It is a small integer so that a Sample stays flat and an
// aggregation key stays comparable without hashing strings.
type Metric uint8

// The built-in metrics. Names follow k6 where k6 has one.
const (
	HTTPReqs Metric = iota + 1
	HTTPReqDuration
	HTTPReqFailed
	HTTPReqBlocked
	HTTPReqConnecting
	HTTPReqTLSHandshaking
	HTTPReqSending
	HTTPReqWaiting
	HTTPReqReceiving
	HTTPReqServiceTime
	Iterations
	IterationDuration
	DroppedIterations
	IterationsInterrupted
	ScheduleLag
	VUs
	VUsMax
	Checks
	DataSent
	DataReceived
	Errors
	WSConnecting
	WSSessions
	WSSessionDuration
	WSMsgsSent
	WSMsgsReceived
	WSMsgsUnmatched
	WSExpectDuration
	WSExpectFailed
	WSPing
	WSErrors
	WSReconnects
	WSReconnectDuration
	HTTPReqUnanswered
	numMetrics
)

// Info describes a built-in metric. Help says what one sample counts or measures — for a rate,
// what its samples with a true value are (the Prometheus output exposes those as a counter);
// the share is what the summary computes from them.
type Info struct {
	Name string
	Kind Kind
	Unit Unit
	Help string
}

var catalogue = [numMetrics]Info{
	HTTPReqs:              {"http_reqs", Counter, None, "HTTP requests made"},
	HTTPReqDuration:       {"http_req_duration", Trend, Time, "HTTP request latency; in the arrival-rate model measured from the scheduled start"},
	HTTPReqFailed:         {"http_req_failed", Rate, None, "HTTP requests that failed: an error, or a status outside expected_status (200-399 by default, as in k6); failed checks count in checks"},
	HTTPReqBlocked:        {"http_req_blocked", Trend, Time, "time waiting for a free connection"},
	HTTPReqConnecting:     {"http_req_connecting", Trend, Time, "time establishing TCP connections"},
	HTTPReqTLSHandshaking: {"http_req_tls_handshaking", Trend, Time, "time in TLS handshakes"},
	HTTPReqSending:        {"http_req_sending", Trend, Time, "time sending the request"},
	HTTPReqWaiting:        {"http_req_waiting", Trend, Time, "time to first byte after sending"},
	HTTPReqReceiving:      {"http_req_receiving", Trend, Time, "time reading the response body"},
	HTTPReqServiceTime:    {"http_req_service_time", Trend, Time, "HTTP request time from the actual send, excluding schedule lag"},
	Iterations:            {"iterations", Counter, None, "scenario iterations completed"},
	IterationDuration:     {"iteration_duration", Trend, Time, "time of one whole iteration"},
	DroppedIterations:     {"dropped_iterations", Counter, None, "iterations the arrival-rate model could not start (no free VU)"},
	IterationsInterrupted: {"iterations_interrupted", Counter, None, "iterations cut by the end of graceful_stop or graceful_ramp_down, or an abort (their requests in flight count as failed with error interrupted)"},
	ScheduleLag:           {"schedule_lag", Trend, Time, "delay between an iteration's scheduled and actual start"},
	VUs:                   {"vus", Gauge, None, "active virtual users"},
	VUsMax:                {"vus_max", Gauge, None, "allocated virtual users"},
	Checks:                {"checks", Rate, None, "checks that passed"},
	DataSent:              {"data_sent", Counter, Bytes, "bytes sent"},
	DataReceived:          {"data_received", Counter, Bytes, "bytes received"},
	Errors:                {"errors", Counter, None, "failures by kind: a failed request (its cause) or an iteration ended by an error (missing capture, template, ...); one failure is one sample"},
	WSConnecting:          {"ws_connecting", Trend, Time, "time establishing WebSocket connections (dial and handshake)"},
	WSSessions:            {"ws_sessions", Counter, None, "WebSocket sessions opened"},
	WSSessionDuration:     {"ws_session_duration", Trend, Time, "lifetime of WebSocket sessions"},
	WSMsgsSent:            {"ws_msgs_sent", Counter, None, "WebSocket messages sent"},
	WSMsgsReceived:        {"ws_msgs_received", Counter, None, "WebSocket messages received"},
	WSMsgsUnmatched:       {"ws_msgs_unmatched", Counter, None, "WebSocket messages skipped because no expectation matched"},
	WSExpectDuration:      {"ws_expect_duration", Trend, Time, "time from an expect step's start (or the last send) to the matched frame"},
	WSExpectFailed:        {"ws_expect_failed", Rate, None, "WebSocket expect steps that failed"},
	WSPing:                {"ws_ping", Trend, Time, "WebSocket ping round trip"},
	WSErrors:              {"ws_errors", Counter, None, "WebSocket errors by kind"},
	WSReconnects:          {"ws_reconnects", Counter, None, "WebSocket reconnections"},
	WSReconnectDuration:   {"ws_reconnect_duration", Trend, Time, "time to re-establish a dropped WebSocket connection"},
	HTTPReqUnanswered:     {"http_req_unanswered", Counter, None, "HTTP request attempts that got no response (refused, reset, timed out; not those an interrupt cut): they have no latency, and a latency threshold ranks them above every answered request"},
}

// Unanswerable reports whether m is a per-response timing of an HTTP request: a request that got
// no response has no sample of it, but is counted in HTTPReqUnanswered, and a threshold on m ranks
// those requests above every answered one (its p(95) cannot pass when more than 5% of the
// requests got no answer). Latency is only measured for responses; a gate on it must still not
// pass against a target that stopped answering.
func Unanswerable(m Metric) bool {
	switch m {
	case HTTPReqDuration, HTTPReqServiceTime, HTTPReqBlocked, HTTPReqConnecting, HTTPReqTLSHandshaking,
		HTTPReqSending, HTTPReqWaiting, HTTPReqReceiving:
		return true
	}
	return false
}

// Info returns the description of m.
func (m Metric) Info() Info {
	if m == 0 || m >= numMetrics {
		return Info{Name: "unknown"}
	}
	return catalogue[m]
}

// String returns the metric's name.
func (m Metric) String() string { return m.Info().Name }

// Kind returns the metric's kind.
func (m Metric) Kind() Kind { return m.Info().Kind }

// All returns every built-in metric in declaration order.
func All() []Metric {
	out := make([]Metric, 0, numMetrics-1)
	for m := Metric(1); m < numMetrics; m++ {
		out = append(out, m)
	}
	return out
}

// ByName returns the metric with the given name.
func ByName(name string) (Metric, bool) {
	for m := Metric(1); m < numMetrics; m++ {
		if catalogue[m].Name == name {
			return m, true
		}
	}
	return 0, false
}

// IsWebSocket reports whether m is produced only by WebSocket steps.
func (m Metric) IsWebSocket() bool { return m >= WSConnecting && m <= WSReconnectDuration }

// IsHTTP reports whether m is produced only by HTTP steps.
func (m Metric) IsHTTP() bool {
	return m >= HTTPReqs && m <= HTTPReqServiceTime || m == HTTPReqUnanswered
}
