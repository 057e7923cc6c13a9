package csv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

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

// What counts as a request (the Locust model of "each protocol step is its own request row"):
// an http_req_failed sample for HTTP steps, one per attempt (also one that got no response: it
// has no time; and one never sent, a refused connection, which http_reqs does not count); a
// ws_connecting sample for a WebSocket connection; a ws_expect_failed sample (one per expect,
// passed or failed) and a ws_ping sample for WebSocket steps. Response times come from
// http_req_duration, ws_connecting, ws_expect_duration and ws_ping; content size from the body
// length data_received samples of HTTP steps carry (BodyBytes; the value counts the head too).
// Failures: see failures.
//
// A row is (Type, Name): Type is the HTTP method ("WS" for WebSocket), Name the request name
// Locust's name= gives, here the step's `name` attribute, else its URL template (the url tag of
// every output) without its scheme and host, as Locust names a request made with a path
// relative to --host; never an expanded per-iteration URL. A WebSocket step's row adds its step
// name.

// locustName is the Name column of a request row.
func locustName(t *metrics.Tags) string {
	name := pathOf(t.URL)
	if name == "" {
		name = t.Scenario + "/" + t.Step
	}
	if t.Group == "ws" {
		if _, sub, ok := strings.Cut(t.Step, "."); ok {
			name += " " + sub
		}
	}
	return name
}

// stats owns the four aggregated files. Only the CSV writer goroutine touches it.
type stats struct {
	prefix  string
	rows    map[*metrics.Tags]*entry
	byName  map[[2]string]*entry // rows by (type, name): equal tag sets that are not one pointer still merge
	fail    *failures
	history *history
	first   int64 // Unix ns of the first sample
	last    int64 // Unix ns of the last request
}

func newStats(prefix string) (*stats, error) {
	// The stats, failures and exceptions files are written at the end; create them now so that
	// an unwritable location fails before any request.
	for _, suffix := range []string{"_stats.csv", "_failures.csv", "_exceptions.csv"} {
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
		prefix:  prefix,
		rows:    make(map[*metrics.Tags]*entry),
		byName:  make(map[[2]string]*entry),
		fail:    newFailures(),
		history: h,
	}, nil
}

func (st *stats) row(t *metrics.Tags) *entry {
	if r, ok := st.rows[t]; ok {
		return r
	}
	k := [2]string{t.Method, locustName(t)}
	r := st.byName[k]
	if r == nil {
		r = &entry{method: k[0], name: k[1]}
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
		if s.Metric == metrics.VUs {
			st.history.setUsers(s.Time, s.Value)
			continue
		}
		if s.Tags == nil || s.Tags.Group == "" {
			if s.Metric == metrics.Errors && s.Label != "" {
				st.fail.exceptions[s.Label]++ // an iteration error outside any request step
			}
			continue
		}
		var request, failed, timed bool
		switch s.Metric {
		case metrics.HTTPReqs:
			st.fail.request(s.Tags)
			continue
		case metrics.HTTPReqDuration:
			timed = true
		case metrics.WSConnecting, metrics.WSPing:
			request, timed = true, true
		case metrics.WSExpectDuration:
			timed = true
		case metrics.HTTPReqFailed:
			// one per attempt, sent or not (a refused connection): Locust's client logs every
			// attempt as a request, a failed one as a failure too. A failed check is a Locust
			// failure (response.failure) although k6's http_req_failed leaves it to checks.
			request, failed = true, s.Value != 0 || st.fail.checkPending(s.Tags)
			st.fail.requestFailed(s.Tags, s, failed)
		case metrics.WSExpectFailed:
			request, failed = true, s.Value != 0
			if failed {
				st.fail.add(s.Tags, "expect failed")
			}
		case metrics.WSErrors:
			failed = true
			st.fail.add(s.Tags, "websocket "+s.Label)
		case metrics.Errors:
			if s.Tags.Group == "http" {
				st.fail.errorSample(s.Tags, s.Label)
			} else {
				st.fail.exceptions[s.Label]++
			}
			continue
		case metrics.Checks:
			if s.Value == 0 && s.Tags.Group == "http" {
				st.fail.checkFailed(s.Tags, s.Label)
			}
			continue
		case metrics.DataReceived:
			if s.Tags.Group == "http" { // the body's bytes, not the wire's: Locust's len(content)
				st.row(s.Tags).content += float64(s.BodyBytes)
				st.history.content(s.Time, float64(s.BodyBytes))
			}
			continue
		default:
			continue
		}
		r := st.row(s.Tags)
		if request {
			r.n++
			st.last = max(st.last, s.Time)
		}
		if timed {
			r.time(s.Value)
		}
		if failed {
			r.fails++
		}
		st.history.add(s.Time, request, failed, timed, s.Value)
	}
}

func (st *stats) flushHistory() { st.history.flush(false) }

// historyErr returns the history file's first error; nil on a nil stats.
func (st *stats) historyErr() error {
	if st == nil {
		return nil
	}
	return st.history.w.Err()
}

// finish writes the stats, failures and exceptions files and completes the history.
func (st *stats) finish() error {
	st.fail.finish()
	return errors.Join(st.history.close(), st.writeStats(), st.fail.write(st.prefix))
}

// writeStats writes PREFIX_stats.csv: the rows by name then type (Locust sorts its entries by
// (name, method)), then the Aggregated row, whose Type is empty.
func (st *stats) writeStats() error {
	rows := make([]*entry, 0, len(st.byName))
	for _, r := range st.byName {
		rows = append(rows, r)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].name != rows[j].name {
			return rows[i].name < rows[j].name
		}
		return rows[i].method < rows[j].method
	})
	total := &entry{name: "Aggregated"}
	for _, r := range rows {
		total.merge(r)
	}
	// Locust's rates: requests over the time from the start to the last request; 0.0 before one.
	secs := float64(st.last-st.first) / 1e9
	return writeFile(st.prefix+"_stats.csv", StatsColumns, func(w *outputs.RecordWriter) {
		for _, r := range append(rows, total) {
			ks := r.keys()
			b := appendPyField(nil, r.method)
			b = append(b, ',')
			b = appendPyField(b, r.name)
			b = r.appendTotals(b, ks)
			b = append(b, ',')
			b = appendRate(b, r.n, secs)
			b = append(b, ',')
			b = appendRate(b, r.fails, secs)
			b = r.appendPercentiles(b, ks)
			w.Write(append(b, crlf...))
		}
	})
}

func appendRate(b []byte, n uint64, secs float64) []byte {
	if secs <= 0 {
		return append(b, "0.0"...)
	}
	return appendPyFloat(b, float64(n)/secs)
}

// writeFile writes one of the end-of-run files in whole rows; its error is a *outputs.FileError
// when the file was created but not written completely.
func writeFile(path string, cols []string, body func(w *outputs.RecordWriter)) error {
	f, err := os.Create(path)
	if err != nil {
		return outputs.NewFileError(path, "create", err)
	}
	w := outputs.NewRecordWriter(f, path, 64<<10)
	w.Write(appendPyHeader(nil, cols))
	body(w)
	return w.Close()
}

// pathOf returns u without a leading scheme://host: the path (and query) a Locust user would
// have passed to self.client.get with the host in --host. Anything else is returned as is.
func pathOf(u string) string {
	for _, scheme := range []string{"http://", "https://", "ws://", "wss://"} {
		if rest, ok := strings.CutPrefix(u, scheme); ok {
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				return rest[i:]
			}
			return "/"
		}
	}
	return u
}

// startLocustOnly starts an output with raw = false: no raw file, the Locust files under a
// prefix, as Locust's --csv PREFIX names them: results/run (or results/run.csv) →
// results/run_stats.csv, ...; a folder (a path ending in a separator, or an existing
// directory) gets <plan>-YYYYMMDD-HHMMSS_stats.csv, ...
func (c *Output) startLocustOnly() error {
	prefix := strings.TrimSuffix(strings.TrimSuffix(c.spec, ".gz"), ".csv")
	if fi, err := os.Stat(c.spec); strings.HasSuffix(c.spec, string(filepath.Separator)) || strings.HasSuffix(c.spec, "/") || (err == nil && fi.IsDir()) {
		// a unique name, as the raw file's would be: _stats.csv is taken exclusively
		f, path, err := outputs.CreateResultFile(c.spec, "_stats.csv", c.opts)
		if err != nil {
			return fmt.Errorf("csv: %w", err)
		}
		f.Close()
		prefix = strings.TrimSuffix(path, "_stats.csv")
	} else if err := os.MkdirAll(filepath.Dir(prefix), 0o755); err != nil {
		return fmt.Errorf("csv: create folder: %w", err)
	}
	st, err := newStats(prefix)
	if err != nil {
		return fmt.Errorf("csv: %w", err)
	}
	c.prefix, c.path, c.stats = prefix, prefix+"_stats.csv", st
	c.w = outputs.NewRecordWriter(nopFile{}, "", 0) // nothing is written to it; Stop waits on it
	go c.writer()
	return nil
}

// nopFile is the raw file of raw = false: nothing.
type nopFile struct{}

func (nopFile) Write(p []byte) (int, error) { return len(p), nil }
func (nopFile) Close() error                { return nil }
