package csv

import (
	"encoding/hex"
	"math"
	"strconv"
	"strings"

	"github.com/loadplan/loadplan/metrics"
)

// LongColumns are the columns of the long layout (layout = "long"): k6's three leading columns,
// then the tags, one row per sample. The static tags of a step come first so that their encoding
// can be cached per tag set; status, check and error are per-sample. timestamp is Unix seconds
// with microseconds (a number every spreadsheet and pandas read; k6 writes whole seconds by
// default, which loses the order of fast requests).
var LongColumns = []string{
	"metric_name", "timestamp", "metric_value",
	"scenario", "step", "group", "method", "url", "target",
	"status", "check", "error",
}

var longHeader = strings.Join(LongColumns, ",") + "\n"

// TraceColumn is the last column of either layout when the plan has tracing (outputs.Options.Traced):
// the W3C trace id (32 hex digits) of a traced request that was sampled or failed, on its
// request row (compact) or the sample that carries its span (long: http_req_duration, or errors
// for a request that got no response; ws_connecting or ws_errors for a WebSocket handshake);
// empty on every other row. Plans without tracing keep the columns as they were.
const TraceColumn = "trace_id"

// encoder turns samples into rows. It caches the encoded static columns of each tag set, so a
// row costs a few appends and no allocation once a step has been seen.
type encoder struct {
	static   map[*metrics.Tags][]byte
	names    [][]byte // metric name by metric number, with the trailing comma
	lastTime int64    // the samples of one request share a time: format it once
	timeText []byte
	lastSec  int64  // the whole seconds of secText, which rows share for a second
	secText  []byte // "1796144681."
	trace    bool   // rows end with the trace_id column
}

func newEncoder() *encoder {
	e := &encoder{static: make(map[*metrics.Tags][]byte)}
	all := metrics.All()
	e.names = make([][]byte, len(all)+2)
	for _, m := range all {
		e.names[m] = []byte(m.String() + ",")
	}
	return e
}

// appendRow appends the long-layout row of s, with its newline, to b.
func (e *encoder) appendRow(b []byte, s *metrics.Sample) []byte {
	b = e.lead(b, s.Metric, s.Time)
	b = appendValue(b, s.Value)
	b = append(b, ',')
	b = append(b, e.staticCols(s.Tags)...)
	if s.Status != 0 {
		b = strconv.AppendInt(b, int64(s.Status), 10)
	}
	b = append(b, ',')
	if s.Label != "" {
		if s.Metric == metrics.Checks {
			b = appendField(b, s.Label)
			b = append(b, ',')
		} else {
			b = append(b, ',')
			b = appendField(b, s.Label)
		}
	} else {
		b = append(b, ',')
	}
	return e.endRow(b, rowSpan(s))
}

// rowSpan is the span whose trace id s's row carries: a request's. An iteration's root span (on
// its iteration_duration sample, for outputs/otlp) is not written: the trace id is its requests'.
func rowSpan(s *metrics.Sample) *metrics.TraceSpan {
	if s.Metric == metrics.IterationDuration {
		return nil
	}
	return s.Span
}

// endRow ends a row: the trace_id column when the file has it, and the newline.
func (e *encoder) endRow(b []byte, span *metrics.TraceSpan) []byte {
	if e.trace {
		b = append(b, ',')
		if span != nil {
			b = hex.AppendEncode(b, span.TraceID[:])
		}
	}
	return append(b, '\n')
}

// lead appends "metric_name,timestamp,", the leading columns of both layouts.
func (e *encoder) lead(b []byte, m metrics.Metric, t int64) []byte {
	if int(m) < len(e.names) && e.names[m] != nil {
		b = append(b, e.names[m]...)
	} else {
		b = appendField(b, m.String())
		b = append(b, ',')
	}
	return e.appendTime(b, t)
}

// appendTime appends the timestamp of t and a comma, formatting only what changed: nothing for
// the samples of one request, the microseconds for the next one in the same second.
func (e *encoder) appendTime(b []byte, t int64) []byte {
	if t != e.lastTime || e.timeText == nil {
		e.lastTime = t
		if t >= 0 {
			if sec := t / 1e9; sec != e.lastSec || e.secText == nil {
				e.lastSec = sec
				e.secText = append(strconv.AppendInt(e.secText[:0], sec, 10), '.')
			}
			e.timeText = append(e.timeText[:0], e.secText...)
			us := (t % 1e9) / 1e3
			var d [7]byte
			for i := 5; i >= 0; i-- {
				d[i] = byte('0' + us%10)
				us /= 10
			}
			d[6] = ','
			e.timeText = append(e.timeText, d[:]...)
		} else {
			e.timeText = append(appendTimestamp(e.timeText[:0], t), ',')
		}
	}
	return append(b, e.timeText...)
}

// staticCols returns "scenario,step,group,method,url,target," for t.
func (e *encoder) staticCols(t *metrics.Tags) []byte {
	if c, ok := e.static[t]; ok {
		return c
	}
	var c []byte
	if t == nil {
		c = []byte(",,,,,,")
	} else {
		for _, v := range []string{t.Scenario, t.Step, t.Group, t.Method, t.URL, t.Target} {
			c = appendField(c, v)
			c = append(c, ',')
		}
	}
	e.static[t] = c
	return c
}

// appendValue appends v as strconv.AppendFloat(b, v, 'f', -1, 64) would, faster for the values
// samples hold: whole numbers (counts, bytes, 0/1) and milliseconds with at most six decimals
// (durations measured in nanoseconds).
func appendValue(b []byte, v float64) []byte {
	if v >= 0 && v < 1e9 {
		n := math.Round(v * 1e6)
		if n/1e6 == v { // exactly six decimals or fewer: integer formatting is exact
			u := uint64(n)
			b = strconv.AppendUint(b, u/1e6, 10)
			frac := u % 1e6
			if frac == 0 {
				return b
			}
			var d [7]byte
			d[0] = '.'
			for i := 6; i >= 1; i-- {
				d[i] = byte('0' + frac%10)
				frac /= 10
			}
			end := 7
			for d[end-1] == '0' {
				end--
			}
			return append(b, d[:end]...)
		}
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

// appendTimestamp appends Unix nanoseconds ns as seconds with six decimals.
func appendTimestamp(b []byte, ns int64) []byte {
	if ns < 0 {
		b = append(b, '-')
		ns = -ns
	}
	b = strconv.AppendInt(b, ns/1e9, 10)
	us := (ns % 1e9) / 1e3
	b = append(b, '.')
	var d [6]byte
	for i := 5; i >= 0; i-- {
		d[i] = byte('0' + us%10)
		us /= 10
	}
	return append(b, d[:]...)
}

// appendField appends v as a CSV field, quoted only when it must be (RFC 4180). Control characters
// and bidi overrides are written escaped (metrics.Escape): a name can neither split a row nor
// reach the terminal of whoever cats the file.
func appendField(b []byte, v string) []byte {
	v = metrics.Escape(v)
	if !strings.ContainsAny(v, ",\"\r\n") {
		return append(b, v...)
	}
	b = append(b, '"')
	for i := 0; i < len(v); i++ {
		if v[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, v[i])
	}
	return append(b, '"')
}
