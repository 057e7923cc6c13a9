package csv

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
)

// Locust's percentile columns and their headers.
var (
	percentiles     = []float64{0.50, 0.66, 0.75, 0.80, 0.90, 0.95, 0.98, 0.99, 0.999, 0.9999, 1}
	percentileNames = []string{"50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"}
)

// StatsColumns is the header of PREFIX_stats.csv, Locust's requests file.
var StatsColumns = append([]string{
	"Type", "Name", "Request Count", "Failure Count", "Median Response Time", "Average Response Time",
	"Min Response Time", "Max Response Time", "Average Content Size", "Requests/s", "Failures/s",
}, percentileNames...)

// HistoryColumns is the header of PREFIX_stats_history.csv.
var HistoryColumns = append(append([]string{"Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s"},
	percentileNames...),
	"Total Request Count", "Total Failure Count", "Total Median Response Time", "Total Average Response Time",
	"Total Min Response Time", "Total Max Response Time", "Total Average Content Size")

// FailuresColumns is the header of PREFIX_failures.csv.
var FailuresColumns = []string{"Method", "Name", "Error", "Occurrences"}

// row aggregates one request row: an HTTP step, a WebSocket connection or a WebSocket step.
//
// What counts as a request (the Locust model of "each protocol step is its own request row"):
// an http_req_duration sample for HTTP steps; a ws_connecting sample for a WebSocket connection;
// a ws_expect_failed sample (one per expect, passed or failed) and a ws_ping sample for WebSocket
// steps. Failures are http_req_failed and ws_expect_failed samples with a true value and
// ws_errors. Response times come from http_req_duration, ws_connecting, ws_expect_duration and
// ws_ping; content size from data_received of HTTP steps.
type row struct {
	typ, name string
	n, fails  uint64
	bytes     float64
	hist      metrics.Histogram
}

type failureKey struct{ method, name, err string }

// stats owns the three aggregated files. Only the CSV writer goroutine touches it.
type stats struct {
	prefix   string
	rows     map[*metrics.Tags]*row
	byName   map[[2]string]*row // rows by (type, name): equal tag sets that are not one pointer still merge
	failures map[failureKey]uint64
	history  *history
	first    int64 // Unix ns of the first sample
	last     int64 // Unix ns of the last sample
}

func newStats(prefix string) (*stats, error) {
	// The stats and failures files are written at the end; create them now so that an unwritable
	// location fails before any request.
	for _, suffix := range []string{"_stats.csv", "_failures.csv"} {
		f, err := os.Create(prefix + suffix)
		if err != nil {
			return nil, err
		}
		f.Close()
	}
	h, err := newHistory(prefix + "_stats_history.csv")
	if err != nil {
		return nil, err
	}
	return &stats{
		prefix:   prefix,
		rows:     make(map[*metrics.Tags]*row),
		byName:   make(map[[2]string]*row),
		failures: make(map[failureKey]uint64),
		history:  h,
	}, nil
}

func (st *stats) row(t *metrics.Tags) *row {
	if r, ok := st.rows[t]; ok {
		return r
	}
	k := [2]string{t.Method, t.Scenario + "/" + t.Step}
	r := st.byName[k]
	if r == nil {
		r = &row{typ: k[0], name: k[1]}
		st.byName[k] = r
	}
	st.rows[t] = r
	return r
}

func (st *stats) add(batch []metrics.Sample) {
	for i := range batch {
		s := &batch[i]
		if s.Metric == 0 {
			continue // spool.End, a batch's end
		}
		if st.first == 0 || s.Time < st.first {
			st.first = s.Time
		}
		if s.Time > st.last {
			st.last = s.Time
		}
		if s.Metric == metrics.VUs {
			st.history.setUsers(s.Time, s.Value)
			continue
		}
		if s.Tags == nil {
			continue
		}
		var request, failed, timed bool
		switch s.Metric {
		case metrics.HTTPReqs:
			// a request that got no response has no duration sample but is still a request
			request = true
		case metrics.HTTPReqDuration:
			timed = true
		case metrics.WSConnecting, metrics.WSPing:
			request, timed = true, true
		case metrics.WSExpectDuration:
			timed = true
		case metrics.HTTPReqFailed:
			// every attempt, also one that never left the machine (refused, no file descriptor):
			// a failure of its step, though not a request
			failed = s.Value != 0
		case metrics.WSExpectFailed:
			request, failed = true, s.Value != 0
		case metrics.WSErrors:
			failed = true
		case metrics.Errors:
			st.failures[failureKey{s.Tags.Method, s.Tags.Scenario + "/" + s.Tags.Step, s.Label}]++
			continue
		case metrics.Checks:
			if s.Value == 0 {
				st.failures[failureKey{s.Tags.Method, s.Tags.Scenario + "/" + s.Tags.Step, "check failed: " + s.Label}]++
			}
			continue
		case metrics.DataReceived:
			if s.Tags.Group == "http" {
				st.row(s.Tags).bytes += s.Value
				st.history.bytes(s.Time, s.Value)
			}
			continue
		default:
			continue
		}
		r := st.row(s.Tags)
		if request {
			r.n++
		}
		if timed {
			r.hist.Record(s.Value)
		}
		if failed {
			r.fails++
			// A failure without a response (status 0) is listed once, under the cause its
			// errors sample names (connection refused, interrupted, ...).
			if s.Metric != metrics.HTTPReqFailed || s.Status != 0 {
				st.failures[failureKey{r.typ, r.name, failureText(s)}]++
			}
		}
		st.history.add(s.Time, request, failed, timed, s.Value)
	}
}

// failureText is the Error column of a failure.
func failureText(s *metrics.Sample) string {
	switch {
	case s.Metric == metrics.WSErrors && s.Label != "":
		return "websocket " + s.Label
	case s.Metric == metrics.WSExpectFailed:
		return "expect failed"
	case s.Status >= 400:
		return "HTTP " + strconv.Itoa(s.Status)
	case s.Status >= 100:
		return "failed check (HTTP " + strconv.Itoa(s.Status) + ")"
	case s.Label != "":
		return s.Label
	}
	return "request failed without a response"
}

func (st *stats) flushHistory() { st.history.flush(false) }

// historyErr returns the history file's first error; nil on a nil stats.
func (st *stats) historyErr() error {
	if st == nil {
		return nil
	}
	return st.history.w.Err()
}

// finish writes the stats and failures files and completes the history.
func (st *stats) finish() error {
	return errors.Join(st.history.close(), st.writeStats(), st.writeFailures())
}

func (st *stats) writeStats() error {
	rows := make([]*row, 0, len(st.byName))
	for _, r := range st.byName {
		rows = append(rows, r)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].name != rows[j].name {
			return rows[i].name < rows[j].name
		}
		return rows[i].typ < rows[j].typ
	})
	total := &row{name: "Aggregated"}
	for _, r := range rows {
		total.n += r.n
		total.fails += r.fails
		total.bytes += r.bytes
		total.hist.Merge(&r.hist)
	}
	secs := float64(st.last-st.first) / 1e9
	if secs < 1 {
		secs = 1
	}
	return writeFile(st.prefix+"_stats.csv", StatsColumns, func(w *outputs.RecordWriter) {
		for _, r := range append(rows, total) {
			b := appendField(nil, r.typ)
			b = append(b, ',')
			b = appendField(b, r.name)
			b = appendCounts(b, r.n, r.fails, &r.hist, r.bytes)
			b = append(b, ',')
			b = appendNum(b, float64(r.n)/secs)
			b = append(b, ',')
			b = appendNum(b, float64(r.fails)/secs)
			for _, q := range percentiles {
				b = append(b, ',')
				b = appendMS(b, &r.hist, q)
			}
			w.Write(append(b, '\n'))
		}
	})
}

func (st *stats) writeFailures() error {
	keys := make([]failureKey, 0, len(st.failures))
	for k := range st.failures {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.name != b.name {
			return a.name < b.name
		}
		if a.method != b.method {
			return a.method < b.method
		}
		return a.err < b.err
	})
	return writeFile(st.prefix+"_failures.csv", FailuresColumns, func(w *outputs.RecordWriter) {
		for _, k := range keys {
			b := appendField(nil, k.method)
			b = append(b, ',')
			b = appendField(b, k.name)
			b = append(b, ',')
			b = appendField(b, k.err)
			b = fmt.Appendf(b, ",%d\n", st.failures[k])
			w.Write(b)
		}
	})
}

// writeFile writes one of the end-of-run files in whole rows; its error is a *outputs.FileError
// when the file was created but not written completely.
func writeFile(path string, cols []string, body func(w *outputs.RecordWriter)) error {
	f, err := os.Create(path)
	if err != nil {
		return outputs.NewFileError(path, "create", err)
	}
	w := outputs.NewRecordWriter(f, path, 64<<10)
	w.Write(appendHeader(nil, cols))
	body(w)
	return w.Close()
}

func appendHeader(b []byte, cols []string) []byte {
	for i, c := range cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendField(b, c)
	}
	return append(b, '\n')
}

// appendMS appends quantile q of h in milliseconds, or N/A (Locust's marker) when h is empty.
func appendMS(b []byte, h *metrics.Histogram, q float64) []byte {
	if h.Count == 0 {
		return append(b, "N/A"...)
	}
	return appendNum(b, h.Quantile(q))
}

// appendNum appends v rounded to three decimals (microseconds for milliseconds).
func appendNum(b []byte, v float64) []byte {
	return strconv.AppendFloat(b, float64(int64(v*1000+0.5))/1000, 'f', -1, 64)
}

func avg(sum float64, n uint64) float64 {
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// appendCounts appends the columns Locust's stats and history rows share: ",Request Count,
// Failure Count,Median,Average,Min,Max,Average Content Size".
func appendCounts(b []byte, n, fails uint64, h *metrics.Histogram, bytes float64) []byte {
	b = fmt.Appendf(b, ",%d,%d,", n, fails)
	b = appendMS(b, h, 0.5)
	b = append(b, ',')
	b = appendNum(b, h.Mean())
	b = append(b, ',')
	b = appendMS(b, h, 0)
	b = append(b, ',')
	b = appendMS(b, h, 1)
	b = append(b, ',')
	return appendNum(b, avg(bytes, n))
}
