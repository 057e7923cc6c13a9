package csv

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
)

// FailuresColumns is the header of PREFIX_failures.csv, Locust 2.x's (up to 2.43; 2.44 appended
// First Seen and Last Seen, which a reader by name or by position 0–3 does not miss).
var FailuresColumns = []string{"Method", "Name", "Error", "Occurrences"}

// ExceptionsColumns is the header of PREFIX_exceptions.csv.
var ExceptionsColumns = []string{"Count", "Message", "Traceback", "Nodes"}

type failureKey struct{ method, name, err string }

// failures keeps Locust's failures table, one row per (method, name, error) with the number of
// failed requests, and its exceptions table.
//
// A failed request is one failure, whatever number of its checks failed (Locust logs a request's
// failure once): the row is counted on the request's http_req_failed sample (failed, or with a
// failed check before it: k6's http_req_failed leaves checks out, Locust's failures do not),
// and its Error says the first cause the request's samples gave, in this order: a transport error (its errors
// sample: "connection refused", "timeout", ...), an HTTP status ≥ 400 (as requests'
// raise_for_status words it, HTTPError('500 Server Error: Internal Server Error for url: URL'),
// the form Locust writes), a failed check (CatchResponseError('check failed: NAME'), the form of
// Locust's response.failure). The step's samples come in one order (errors, checks, then
// http_req_failed; http_req_failed first for a resend or an interrupt): pending keeps what came
// before, by step.
//
// An errors sample that no failed request takes (a missing capture, a template error: the
// iteration ended in loadplan, not in a request) is Locust's exception in user code: a row of
// PREFIX_exceptions.csv, counted by message.
type failures struct {
	rows       map[failureKey]uint64
	pending    map[*metrics.Tags]*pending
	exceptions map[string]uint64
}

// pending is what a step's samples said before its http_req_failed (or after it, for a resend).
type pending struct {
	err    string // an errors sample's label not yet taken
	check  string // the first failed check of the request
	failed int    // http_req_failed samples without a response still waiting for their cause
}

func newFailures() *failures {
	return &failures{rows: map[failureKey]uint64{}, pending: map[*metrics.Tags]*pending{}, exceptions: map[string]uint64{}}
}

func (f *failures) at(t *metrics.Tags) *pending {
	p := f.pending[t]
	if p == nil {
		p = &pending{}
		f.pending[t] = p
	}
	return p
}

// add counts a failure of t's request row (WebSocket failures directly).
func (f *failures) add(t *metrics.Tags, text string) {
	f.rows[failureKey{t.Method, locustName(t), text}]++
}

// request is a new request of the step: an errors sample still pending did not belong to one.
func (f *failures) request(t *metrics.Tags) {
	if p := f.pending[t]; p != nil {
		f.orphan(p)
		p.check = ""
	}
}

func (f *failures) orphan(p *pending) {
	if p.err != "" {
		f.exceptions[p.err]++
		p.err = ""
	}
}

// errorSample takes an errors sample of t's step.
func (f *failures) errorSample(t *metrics.Tags, label string) {
	p := f.at(t)
	if p.failed > 0 { // the failure came first (a resend, an interrupt)
		p.failed--
		f.add(t, label)
		return
	}
	f.orphan(p)
	p.err = label
}

// checkFailed notes a failed check of the step's current request.
func (f *failures) checkFailed(t *metrics.Tags, name string) {
	if p := f.at(t); p.check == "" {
		p.check = name
	}
}

// checkPending says whether a check of t's current request failed.
func (f *failures) checkPending(t *metrics.Tags) bool {
	p := f.pending[t]
	return p != nil && p.check != ""
}

// requestFailed takes an http_req_failed sample (value failed) and counts its failure row.
func (f *failures) requestFailed(t *metrics.Tags, s *metrics.Sample, failed bool) {
	p := f.at(t)
	if !failed {
		p.check = ""
		return // an errors sample still pending is a missing capture, seen at the next request
	}
	var text string
	switch {
	case p.err != "":
		text, p.err = p.err, ""
	case s.Status >= 400:
		text = httpErrorText(s.Status, t.URL)
	case p.check != "":
		text = "CatchResponseError('check failed: " + pyQuoteInner(p.check) + "')"
	case s.Status == 0:
		p.failed++ // its cause comes next
		return
	default:
		text = "CatchResponseError('failed')"
	}
	p.check = ""
	f.add(t, text)
}

// finish settles what is still pending at the end of the run.
func (f *failures) finish() {
	for t, p := range f.pending {
		f.orphan(p)
		for ; p.failed > 0; p.failed-- {
			f.add(t, "request failed without a response")
		}
	}
}

// httpErrorText is the repr of the HTTPError requests' raise_for_status raises, as Locust's
// failures file shows it; url is the step's url tag (its URL template, or its name).
func httpErrorText(status int, url string) string {
	kind := "Client"
	if status >= 500 {
		kind = "Server"
	}
	return "HTTPError('" + strconv.Itoa(status) + " " + kind + " Error: " + pyQuoteInner(http.StatusText(status)) +
		" for url: " + pyQuoteInner(url) + "')"
}

// pyQuoteInner escapes s for the inside of a single-quoted Python repr.
func pyQuoteInner(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s)
}

// write writes PREFIX_failures.csv and PREFIX_exceptions.csv. Locust orders its failures by a
// hash; these are by name, method and error, which a reader cannot tell apart.
func (f *failures) write(prefix string) error {
	keys := make([]failureKey, 0, len(f.rows))
	for k := range f.rows {
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
	err := writeFile(prefix+"_failures.csv", FailuresColumns, func(w *outputs.RecordWriter) {
		for _, k := range keys {
			b := appendPyField(nil, k.method)
			b = append(b, ',')
			b = appendPyField(b, k.name)
			b = append(b, ',')
			b = appendPyField(b, k.err)
			b = append(b, ',')
			b = strconv.AppendUint(b, f.rows[k], 10)
			w.Write(append(b, crlf...))
		}
	})
	msgs := make([]string, 0, len(f.exceptions))
	for m := range f.exceptions {
		msgs = append(msgs, m)
	}
	sort.Strings(msgs)
	err2 := writeFile(prefix+"_exceptions.csv", ExceptionsColumns, func(w *outputs.RecordWriter) {
		for _, m := range msgs {
			b := strconv.AppendUint(nil, f.exceptions[m], 10)
			b = append(b, ',')
			b = appendPyField(b, m)
			w.Write(append(b, ",,local"+crlf...)) // no traceback; one node, Locust's "local"
		}
	})
	if err != nil {
		return err
	}
	return err2
}
