package csv

import (
	"os"
	"strconv"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
)

// historyLag is how many seconds an interval stays open after the newest sample seen: VUs flush
// their batches every ~250 ms, so samples arrive slightly out of time order.
const historyLag = 3

// maxGap is the longest run of empty seconds written as rows; a longer silence is skipped.
const maxGap = 3600

// interval aggregates the requests of one second for PREFIX_stats_history.csv.
type interval struct {
	n, fails uint64
	bytes    float64
	hist     metrics.Histogram
	users    float64
	hasUsers bool
}

// history writes one Locust history row per second ("Aggregated" over every request row), with
// the user count (the vus gauge) and running totals. Rows are written as intervals close, so
// memory stays flat for a soak of any length. Only the CSV writer goroutine uses it.
type history struct {
	w     *outputs.RecordWriter
	open  map[int64]*interval // by Unix second
	next  int64               // the first second not yet written; 0 before any sample
	max   int64               // the newest second seen
	users float64             // the user count carried from the last interval that had one
	total interval
}

func newHistory(path string) (*history, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	h := &history{w: outputs.NewRecordWriter(f, path, 64<<10), open: make(map[int64]*interval)}
	h.w.Write(appendHeader(nil, HistoryColumns))
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
		iv.hist.Record(v)
	}
}

func (h *history) setUsers(t int64, v float64) {
	iv := h.at(t)
	iv.users, iv.hasUsers = v, true
}

func (h *history) bytes(t int64, v float64) { h.at(t).bytes += v }

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

func (h *history) writeRow(sec int64, iv *interval) {
	if iv.hasUsers {
		h.users = iv.users
	}
	t := &h.total
	t.n += iv.n
	t.fails += iv.fails
	t.bytes += iv.bytes
	t.hist.Merge(&iv.hist)

	b := strconv.AppendInt(nil, sec, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(h.users), 10)
	b = append(b, ",,Aggregated,"...)
	b = strconv.AppendUint(b, iv.n, 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, iv.fails, 10)
	for _, q := range percentiles {
		b = append(b, ',')
		b = appendMS(b, &iv.hist, q)
	}
	b = appendCounts(b, t.n, t.fails, &t.hist, t.bytes)
	h.w.Write(append(b, '\n'))
}

// close writes the open intervals and closes the file; its error is a *outputs.FileError.
func (h *history) close() error {
	h.flush(true)
	return h.w.Close()
}
