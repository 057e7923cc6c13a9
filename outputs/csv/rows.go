package csv

import (
	"cmp"
	"slices"

	"github.com/loadplan/loadplan/metrics"
)

// The compact layout writes one row per HTTP request. An HTTP step emits a request's samples
// one after another from its VU (executor/httpstep, send then do):
//
//	send part, all at the time T1 the response ended:
//	  [http_reqs] [http_req_unanswered] [the eight timings] [data_sent data_received]
//	  (an attempt net/http resent first: http_reqs, http_req_failed, errors, http_req_unanswered)
//	do part, at a later time T2:
//	  [errors] checks… http_req_failed        a response, or an error
//	  http_req_failed errors("interrupted")   cut by the end of the run
//	  http_req_failed(0)                      a redirect hop; the next hop is a new request
//
// and the Manager hands each VU's batch of samples to Emit whole and in order. So inside a
// batch a request's samples are contiguous: a sample that does not fit the open row (another
// step, a time or a field that row already has) starts the next one. Only at a batch's ends may
// a request be cut in two, its second half starting the same VU's next batch, after other VUs'
// batches. A row still incomplete when its batch ends (by the grammar above: no
// http_req_failed yet, or the errors or http_req_unanswered that must follow it) waits in
// pending until a batch begins with a sample that continues it: a sample of the send part
// matches its row exactly by tag set and T1 (nanoseconds); one of the do part by tag set,
// status and, once the do part began, T2. The one case that is not exact by keys is a batch cut
// between a request's two parts while several requests of the same step with the same status
// wait for their do part: the do part then joins the row with the latest T1 not after its T2
// (the VU's own, but for another VU whose response ended in that window of a few hundred
// nanoseconds); guessed counts the joins made by time. Counts and sums per column stay exact either way.
// Stop writes what is still pending.

// field is a column of a request row.
type field uint8

const (
	fReqs field = iota
	fUnanswered
	fDuration
	fService
	fBlocked
	fConnecting
	fTLS
	fSending
	fWaiting
	fReceiving
	fSent
	fRecv
	fErrors
	fFailed
	fChecks
	fNone // not a request sample
)

// numVals is how many request-row fields hold a float value (fDuration through fRecv).
const numVals = int(fRecv-fDuration) + 1

// fieldOf returns the field of s in a request row, or fNone when s is not a sample of an HTTP
// request (a WebSocket step's data, checks and errors, iterations, vus …).
func fieldOf(s *metrics.Sample) field {
	switch s.Metric {
	case metrics.HTTPReqs:
		return fReqs
	case metrics.HTTPReqUnanswered:
		return fUnanswered
	case metrics.HTTPReqDuration:
		return fDuration
	case metrics.HTTPReqServiceTime:
		return fService
	case metrics.HTTPReqBlocked:
		return fBlocked
	case metrics.HTTPReqConnecting:
		return fConnecting
	case metrics.HTTPReqTLSHandshaking:
		return fTLS
	case metrics.HTTPReqSending:
		return fSending
	case metrics.HTTPReqWaiting:
		return fWaiting
	case metrics.HTTPReqReceiving:
		return fReceiving
	case metrics.HTTPReqFailed:
		return fFailed
	}
	if s.Tags == nil || s.Tags.Group != "http" {
		return fNone
	}
	switch s.Metric {
	case metrics.DataSent:
		return fSent
	case metrics.DataReceived:
		return fRecv
	case metrics.Errors:
		return fErrors
	case metrics.Checks:
		return fChecks
	}
	return fNone
}

// sendPart reports whether f is emitted by send, at T1.
func (f field) sendPart() bool { return f <= fRecv }

// reqRow is one HTTP request being assembled.
type reqRow struct {
	tags   *metrics.Tags
	t1, t2 int64 // the send part's time (the row's timestamp) and the do part's, 0 until seen
	status int
	have   uint32 // bit f set: field f was seen
	vals   [numVals]float64
	failed float64
	err    string // the errors sample's label

	checksPassed, checksFailed int
	failedChecks               []byte // names of the failed checks, " | " between them
	// span is the request's trace span (its http_req_duration's, or its errors sample's when
	// no response came), for the trace_id column; nil when none.
	span *metrics.TraceSpan
}

func (r *reqRow) has(f field) bool { return r.have&(1<<f) != 0 }

// fits reports whether s, a request sample (f = fieldOf(s)), continues r.
func (r *reqRow) fits(s *metrics.Sample, f field) bool {
	if s.Tags != r.tags {
		return false
	}
	switch {
	case f == fReqs:
		return false // always the first sample of a request
	case f.sendPart():
		return !r.has(f) && s.Time == r.t1 && s.Status == r.status
	case r.t2 == 0 && !r.sendDone() && s.Time != r.t1:
		return false // a do part follows a whole send part, or is a resend's (at T1)
	case f == fChecks:
		return !r.has(fFailed) && s.Time >= r.t1 && (r.t2 == 0 || s.Time == r.t2)
	}
	// errors, http_req_failed
	if r.has(f) || s.Status != r.status || s.Time < r.t1 {
		return false
	}
	return r.t2 == 0 || s.Time == r.t2
}

// sendDone reports whether r's send part is whole: a request that left the machine ends it with
// data_received; one that never did has no http_reqs (its send part is http_req_unanswered, or
// the bytes an interrupted attempt moved).
func (r *reqRow) sendDone() bool { return r.has(fRecv) || !r.has(fReqs) }

// add puts s (field f) into r.
func (r *reqRow) add(s *metrics.Sample, f field) {
	r.have |= 1 << f
	if s.Span != nil {
		r.span = s.Span
	}
	switch {
	case f == fReqs || f == fUnanswered:
	case f.sendPart():
		r.vals[f-fDuration] = s.Value
	default:
		if r.t2 == 0 {
			r.t2 = s.Time
		}
		switch f {
		case fErrors:
			r.err = s.Label
		case fFailed:
			r.failed = s.Value
		case fChecks:
			if s.Value != 0 {
				r.checksPassed++
			} else {
				r.checksFailed++
				if len(r.failedChecks) > 0 {
					r.failedChecks = append(r.failedChecks, " | "...)
				}
				r.failedChecks = append(r.failedChecks, s.Label...)
			}
		}
	}
}

// complete reports whether no sample of r's request can follow (see the grammar above).
func (r *reqRow) complete() bool {
	if !r.has(fFailed) {
		return false
	}
	if r.has(fErrors) {
		// a resend (its do part at T1) ends with http_req_unanswered
		return r.t2 != r.t1 || r.has(fUnanswered)
	}
	// with no errors sample: a response (it has a duration) or a redirect hop (failed 0); else
	// the request was cut and errors("interrupted") follows
	return r.failed == 0 || r.has(fDuration)
}

// assembler groups request samples into rows and hands every row to its sinks in the order rows
// complete. It is the writer goroutine's.
type assembler struct {
	open    *reqRow                     // the row of the batch being read
	start   bool                        // no sample of the batch read yet: it may continue a pending row
	pending map[*metrics.Tags][]*reqRow // rows cut by a batch end, by tag set
	npend   int
	free    []*reqRow
	guessed uint64 // do parts joined to a cut row by the latest-T1 rule (by time, not by a key)

	row   func(*reqRow)         // a finished request row
	other func(*metrics.Sample) // a sample that is no request's
}

func newAssembler(row func(*reqRow), other func(*metrics.Sample)) *assembler {
	return &assembler{pending: make(map[*metrics.Tags][]*reqRow), start: true, row: row, other: other}
}

// add reads the next sample of the current batch: one VU's samples, in order.
func (a *assembler) add(s *metrics.Sample) {
	start := a.start
	a.start = false
	f := fieldOf(s)
	if f == fNone {
		a.finish()
		a.other(s)
		return
	}
	if a.open != nil && a.open.fits(s, f) {
		a.open.add(s, f)
		return
	}
	a.finish()
	if start {
		if r := a.continued(s, f); r != nil {
			a.open = r
			r.add(s, f)
			return
		}
	}
	if !f.sendPart() {
		a.other(s) // a do-part sample with no request before it (a step's own error)
		return
	}
	r := a.newRow()
	r.tags, r.t1, r.status = s.Tags, s.Time, s.Status
	r.add(s, f)
	a.open = r
}

// end ends the current batch: its open row is written when complete, else it waits for the rest
// of its request at the start of a later batch.
func (a *assembler) end() {
	a.start = true
	r := a.open
	if r == nil {
		return
	}
	a.open = nil
	if r.complete() {
		a.write(r)
		return
	}
	a.park(r)
}

// maxPending bounds the rows waiting for the rest of their request. By the grammar a VU has at
// most one, so it is never reached unless httpstep's order changed; rows are then written as
// they are (a request may take two rows) rather than kept without limit.
const maxPending = 100_000

// continued finds and removes the pending row s continues, or returns nil. Each tag set's
// pending rows are sorted by T1, so the search is a binary search and a short walk back: a send
// part sample matches the rows at its own T1; a do part the row with the latest T1 not after it
// (see the grammar above).
func (a *assembler) continued(s *metrics.Sample, f field) *reqRow {
	if f == fReqs {
		return nil // always a new request
	}
	list := a.pending[s.Tags]
	i, _ := slices.BinarySearchFunc(list, s.Time, func(r *reqRow, t int64) int {
		if r.t1 <= t {
			return -1
		}
		return 1
	}) // list[:i] have t1 <= s.Time
	for j := i - 1; j >= 0 && j >= i-maxWalk; j-- {
		r := list[j]
		if f.sendPart() && r.t1 != s.Time {
			return nil
		}
		if !r.fits(s, f) {
			continue
		}
		if !f.sendPart() && r.t2 == 0 {
			a.guessed++ // joined by time, not by a key
		}
		a.pending[s.Tags] = slices.Delete(list, j, j+1)
		a.npend--
		return r
	}
	return nil
}

// maxWalk bounds the walk back from a do part's time to its row: past the rows of the same step
// whose send part ended between the two parts of this request (a few, at most one per VU).
const maxWalk = 4096

// park keeps r, cut by its batch's end, until a later batch continues it.
func (a *assembler) park(r *reqRow) {
	list := a.pending[r.tags]
	i, _ := slices.BinarySearchFunc(list, r.t1, func(x *reqRow, t int64) int {
		if x.t1 <= t {
			return -1
		}
		return 1
	})
	a.pending[r.tags] = slices.Insert(list, i, r)
	if a.npend++; a.npend > maxPending {
		a.flush() // samples in an order the grammar above does not know: bounded memory first
	}
}

// finish writes the open row: the batch went on past it, so its request is over.
func (a *assembler) finish() {
	if a.open != nil {
		a.write(a.open)
		a.open = nil
	}
}

// flush writes every pending row, oldest first: Stop, nothing more will come.
func (a *assembler) flush() {
	a.finish()
	var all []*reqRow
	for _, list := range a.pending {
		all = append(all, list...)
	}
	clear(a.pending)
	a.npend = 0
	slices.SortFunc(all, func(x, y *reqRow) int { return cmp.Compare(x.t1, y.t1) })
	for _, r := range all {
		a.write(r)
	}
}

func (a *assembler) write(r *reqRow) {
	a.row(r)
	fc := r.failedChecks[:0]
	*r = reqRow{failedChecks: fc}
	a.free = append(a.free, r)
}

func (a *assembler) newRow() *reqRow {
	if n := len(a.free); n > 0 {
		r := a.free[n-1]
		a.free = a.free[:n-1]
		return r
	}
	return &reqRow{}
}
