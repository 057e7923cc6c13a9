package fleet

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/loadplan/loadplan/outputs/summary"
)

// ErrIncomplete is wrapped by Check's error when segments of the fleet are missing.
var ErrIncomplete = fmt.Errorf("incomplete fleet")

// Check verifies that segs are one whole fleet: every summary names a segment i/N of the same N,
// none twice, all N present. Summaries of a whole plan (no segment) pass alone. Its error names
// the missing segments (wrapping ErrIncomplete) or the duplicated one.
func Check(segs []*summary.SegmentSummary) error {
	total := 0
	seen := map[int]bool{}
	for _, s := range segs {
		if s.Segment == "" {
			if len(segs) > 1 {
				return fmt.Errorf("a summary of a whole run (no --segment) cannot merge with others")
			}
			return nil
		}
		i, n, ok := parseSegment(s.Segment)
		if !ok {
			return fmt.Errorf("summary of segment %q: not INDEX/TOTAL", s.Segment)
		}
		if total == 0 {
			total = n
		}
		if n != total {
			return fmt.Errorf("segments of different fleets: %s and 1/%d (every instance must run --segment i/%d)", s.Segment, total, total)
		}
		if seen[i] {
			return fmt.Errorf("segment %s given twice (two instances ran it, or the logs hold two runs: give one run's)", s.Segment)
		}
		seen[i] = true
	}
	var missing []int
	for i := 1; i <= total; i++ {
		if !seen[i] {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %d of %d segments, missing %s", ErrIncomplete, total-len(missing), total, Names(missing, total))
	}
	return nil
}

func parseSegment(s string) (index, total int, ok bool) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return 0, 0, false
	}
	return i, n, true
}

// Skew is how one segment started, as merge reports it.
type Skew struct {
	Segment string
	Start   time.Time // when its schedule began, its own clock
	// Late is Start minus the agreed start (--start-at, the rendezvous, the claim folder); 0 when
	// the segment had none.
	Late time.Duration
	// Spread is Start minus the earliest segment's start.
	Spread time.Duration
	// Shift is how far Align moved the segment's timestamps back: Late rounded to whole seconds.
	Shift time.Duration
}

// Align lines the segments up by the schedule's clock. A segment that started late by a second
// or more ran its whole schedule shifted by that much; its timestamps (start, end, every series'
// first and last sample, the per-second buckets of windowed thresholds) move back by its
// lateness rounded to whole seconds, so that the fleet's seconds and stages fall where the
// schedule put them. Buckets are whole seconds, hence the rounding: a segment less than half a
// second late is left as it is. It modifies segs and returns one Skew per segment, in order.
func Align(segs []*summary.SegmentSummary) []Skew {
	var earliest time.Time
	for _, s := range segs {
		if earliest.IsZero() || s.Start.Before(earliest) {
			earliest = s.Start
		}
	}
	out := make([]Skew, len(segs))
	for i, s := range segs {
		sk := Skew{Segment: s.Segment, Start: s.Start, Spread: s.Start.Sub(earliest)}
		if !s.ScheduledStart.IsZero() {
			sk.Late = s.Start.Sub(s.ScheduledStart)
			sk.Shift = sk.Late.Round(time.Second)
		}
		if sk.Shift > 0 {
			shift(s, sk.Shift)
		}
		out[i] = sk
	}
	return out
}

// shift moves a summary's timestamps back by d (whole seconds).
func shift(s *summary.SegmentSummary, d time.Duration) {
	s.Start, s.End = s.Start.Add(-d), s.End.Add(-d)
	ns, sec := d.Nanoseconds(), int64(d/time.Second)
	move := func(j *summary.SeriesJSON) {
		if j.First != 0 {
			j.First -= ns
		}
		if j.End != 0 {
			j.End -= ns
		}
	}
	for i := range s.Series {
		move(&s.Series[i])
	}
	for i := range s.Thresholds {
		t := &s.Thresholds[i]
		if t.Total != nil {
			move(t.Total)
		}
		if len(t.Buckets) == 0 {
			continue
		}
		moved := make(map[string]summary.SeriesJSON, len(t.Buckets))
		for k, b := range t.Buckets {
			n, err := strconv.ParseInt(k, 10, 64)
			if err != nil {
				moved[k] = b // Merge reports it
				continue
			}
			move(&b)
			moved[strconv.FormatInt(n-sec, 10)] = b
		}
		t.Buckets = moved
	}
}
