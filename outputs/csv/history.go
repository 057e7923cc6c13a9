package csv

import (
	"os"
	"strconv"

	"github.com/loadplan/loadplan/outputs"
)

// historyLag is how many seconds an interval stays open after the newest sample seen: VUs flush
// their batches every ~250 ms, so samples arrive slightly out of time order.
const historyLag = 3

// maxGap is the longest run of empty seconds written as rows; a longer silence is skipped.
const maxGap = 3600

// rateWindow is how many past seconds Locust's current_rps keeps (its window runs from 12 s to
// 2 s before the last request: [last-12, last-2)).
const rateWindow = 16

// interval aggregates the requests of one second for PREFIX_stats_history.csv.
type interval struct {
	entry
	users    float64
	hasUsers bool
}

// history writes one Locust history row per second, the "Aggregated" row of Locust's default
// (not --csv-full-history): the user count (the vus gauge), Locust's current rates (the mean
// of the per-second counts from 12 s to 2 s before the last request, "%f"), and the running
// totals, percentiles included, as Locust's writer prints them. Rows are written as intervals
// close, so memory stays flat for a soak of any length. Only the CSV writer goroutine uses it.
type history struct {
	w     *outputs.RecordWriter
	open  map[int64]*interval // by Unix second
	next  int64               // the first second not yet written; 0 before any sample
	max   int64               // the newest second seen
	users float64             // the user count carried from the last interval that had one
	total entry
	first int64 // the first second written
	last  int64 // the last second written that had a request, 0 before one
	// the requests and failures of the last rateWindow seconds written, by second % rateWindow
	ring [rateWindow]struct{ sec, n, fails int64 }
}

func newHistory(path string) (*history, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	h := &history{w: outputs.NewRecordWriter(f, path, 64<<10), open: make(map[int64]*interval), total: entry{name: "Aggregated"}}
	h.w.Write(appendPyHeader(nil, HistoryColumns))
	return h, nil
}

func (h *history) at(t int64) *interval {
	sec := t / 1e9
	if h.next == 0 {
		h.next = sec
	}
	if sec < h.next || t <= 0 {
		sec = h.next // late: into the earliest open interval
	}
	if sec > h.max {
		h.max = sec
	}
	iv := h.open[sec]
	if iv == nil {
		iv = &interval{}
		h.open[sec] = iv
	}
	return iv
}

func (h *history) add(t int64, request, failed, timed bool, v float64) {
	iv := h.at(t)
	if request {
		iv.n++
	}
	if failed {
		iv.fails++
	}
	if timed {
		iv.time(v)
	}
}

func (h *history) setUsers(t int64, v float64) {
	iv := h.at(t)
	iv.users, iv.hasUsers = v, true
}

func (h *history) content(t int64, v float64) { h.at(t).entry.content += v }

// flush writes the intervals that are closed (all of them when final).
func (h *history) flush(final bool) {
	if h.next == 0 {
		return
	}
	upto := h.max - historyLag
	if final {
		upto = h.max
	}
	for sec := h.next; sec <= upto; sec++ {
		iv := h.open[sec]
		if iv == nil {
			if nxt := h.nextOpen(sec); nxt-sec > maxGap {
				sec = nxt - 1
				continue
			}
			iv = &interval{}
		}
		delete(h.open, sec)
		h.writeRow(sec, iv)
		h.next = sec + 1
	}
	h.w.Flush()
}

// nextOpen returns the first open second after sec, or h.max+1.
func (h *history) nextOpen(sec int64) int64 {
	best := h.max + 1
	for s := range h.open {
		if s > sec && s < best {
			best = s
		}
	}
	return best
}

// rates returns Locust's current_rps and current_fail_per_sec at the last request: the mean
// per-second counts over [max(last-12, first), last-2), 0 over an empty window.
func (h *history) rates() (rps, fps float64) {
	if h.last == 0 {
		return 0, 0
	}
	from, to := max(h.last-12, h.first), h.last-2
	if to <= from {
		return 0, 0
	}
	var n, f int64
	for s := from; s < to; s++ {
		if r := h.ring[s%rateWindow]; r.sec == s {
			n += r.n
			f += r.fails
		}
	}
	return float64(n) / float64(to-from), float64(f) / float64(to-from)
}

func (h *history) writeRow(sec int64, iv *interval) {
	if iv.hasUsers {
		h.users = iv.users
	}
	if h.first == 0 {
		h.first = sec
	}
	h.ring[sec%rateWindow] = struct{ sec, n, fails int64 }{sec, int64(iv.n), int64(iv.fails)}
	if iv.n > 0 {
		h.last = sec
	}
	h.total.merge(&iv.entry)
	rps, fps := h.rates()
	ks := h.total.keys()

	b := strconv.AppendInt(nil, sec, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(h.users), 10)
	b = append(b, ",,Aggregated,"...)
	b = strconv.AppendFloat(b, rps, 'f', 6, 64) // Locust's f"{current_rps:2f}"
	b = append(b, ',')
	b = strconv.AppendFloat(b, fps, 'f', 6, 64)
	b = h.total.appendPercentiles(b, ks)
	b = h.total.appendTotals(b, ks)
	h.w.Write(append(b, crlf...))
}

// close writes the open intervals and closes the file; its error is a *outputs.FileError.
func (h *history) close() error {
	h.flush(true)
	return h.w.Close()
}
