package fleet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs/summary"
)

// testSegment is a summary of segment i/n whose latency histogram spans a wide range, so that its
// log form takes several parts.
func testSegment(i, n int, seed uint64) *summary.SegmentSummary {
	r := rand.New(rand.NewPCG(seed, 1))
	start := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)
	seg := &summary.SegmentSummary{Version: summary.SegmentVersion, Segment: fmt.Sprintf("%d/%d", i, n),
		Start: start, End: start.Add(10 * time.Second), ScheduledStart: start}
	for k := range 8 {
		h := &metrics.Histogram{}
		for range 2000 {
			h.Record(r.ExpFloat64() * float64(10+k*100))
		}
		s := &metrics.Series{Key: metrics.Key{Metric: metrics.HTTPReqDuration, Status: 200 + k}, Count: h.Count, Sum: h.Sum,
			Min: h.Min, Max: h.Max, First: start.UnixNano(), End: start.Add(9 * time.Second).UnixNano(), Hist: h}
		seg.Series = append(seg.Series, summary.EncodeSeries(s))
	}
	return seg
}

func jsonOf(t *testing.T, seg *summary.SegmentSummary) string {
	t.Helper()
	var b bytes.Buffer
	if err := summary.WriteSegment(&b, seg); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestSegmentLinesSurviveLogCollection: three segments' lines, interleaved out of order with
// other log lines, bare, behind compose prefixes with colour codes, or quoted in Docker's
// json-file records, rebuild the same summaries; no line passes 3.2 KB.
func TestSegmentLinesSurviveLogCollection(t *testing.T) {
	var lines []string
	want := map[string]string{}
	for i := 1; i <= 3; i++ {
		seg := testSegment(i, 3, uint64(i))
		want[seg.Segment] = jsonOf(t, seg)
		var b bytes.Buffer
		if err := WriteLines(&b, seg); err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.SplitAfter(b.String(), "\n") {
			if l == "" {
				continue
			}
			if len(l) > 3200 {
				t.Errorf("a %d-byte line", len(l))
			}
			switch i {
			case 2: // docker compose logs
				l = fmt.Sprintf("\x1b[36mloadplan-%d  |\x1b[0m ", i) + l
			case 3: // Docker's json-file, as a raw log
				l = `{"log":"` + strings.TrimSuffix(l, "\n") + `\n","stream":"stdout","time":"2026-12-01T20:00:11.123456789Z"}` + "\n"
			}
			lines = append(lines, l, fmt.Sprintf("loadplan-%d  | some other log line %d\n", i, len(lines)))
		}
	}
	if len(lines) < 12 {
		t.Fatalf("only %d lines: the test wants summaries of several parts", len(lines))
	}
	r := rand.New(rand.NewPCG(7, 7))
	r.Shuffle(len(lines), func(a, b int) { lines[a], lines[b] = lines[b], lines[a] })
	c := NewCollector()
	if err := c.Read(strings.NewReader(strings.Join(lines, "")), "logs"); err != nil {
		t.Fatal(err)
	}
	got, err := c.Summaries()
	if err != nil || len(got) != 3 {
		t.Fatalf("%d summaries, %v", len(got), err)
	}
	for _, seg := range got {
		if g := jsonOf(t, seg); g != want[seg.Segment] {
			t.Errorf("segment %s rebuilt differently", seg.Segment)
		}
	}
	if err := Check(got); err != nil {
		t.Error(err)
	}
}

// TestSegmentLinesDamaged: a lost part, an altered chunk and two runs of one segment are named.
func TestSegmentLinesDamaged(t *testing.T) {
	var b bytes.Buffer
	WriteLines(&b, testSegment(2, 2, 1))
	lines := strings.SplitAfter(strings.TrimSuffix(b.String(), "\n"), "\n")
	c := NewCollector()
	c.Read(strings.NewReader(strings.Join(append(lines[:1:1], lines[2:]...), "")), "cut")
	if _, err := c.Summaries(); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("part(s) 2 of %d missing", len(lines))) {
		t.Errorf("a lost part: %v", err)
	}
	altered := strings.Replace(b.String(), "A", "B", 1)
	c = NewCollector()
	c.Read(strings.NewReader(altered), "altered")
	if _, err := c.Summaries(); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Errorf("an altered line: %v", err)
	}
	var b2 bytes.Buffer
	WriteLines(&b2, testSegment(2, 2, 2)) // segment 2/2 of another run
	WriteLines(&b2, testSegment(1, 2, 3))
	c = NewCollector()
	c.Read(strings.NewReader(b.String()+b2.String()), "two runs")
	segs, err := c.Summaries()
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(segs); err == nil || !strings.Contains(err.Error(), "segment 2/2 given twice") {
		t.Errorf("two runs of one segment: %v", err)
	}
	if err := Check(segs[:1]); err == nil || !strings.Contains(err.Error(), "missing 1/2") {
		t.Errorf("half a fleet: %v", err)
	}
}

// TestAlign: a segment 3.4 s late moves back 3 s, windowed-threshold buckets with it; one on
// time does not move.
func TestAlign(t *testing.T) {
	late, onTime := testSegment(1, 2, 1), testSegment(2, 2, 2)
	late.Start = late.ScheduledStart.Add(3400 * time.Millisecond)
	late.Thresholds = []summary.StateJSON{{Name: "w", Buckets: map[string]summary.SeriesJSON{"1000": {Metric: "http_reqs", Count: 5, First: 1000e9}}}}
	first := late.Series[0].First
	skews := Align([]*summary.SegmentSummary{late, onTime})
	if skews[0].Shift != 3*time.Second || skews[0].Late != 3400*time.Millisecond || skews[1].Shift != 0 || skews[0].Spread != 3400*time.Millisecond {
		t.Errorf("skews %+v", skews)
	}
	b, ok := late.Thresholds[0].Buckets["997"]
	if !ok || b.First != 997e9 || late.Series[0].First != first-3e9 || !late.Start.Equal(late.ScheduledStart.Add(400*time.Millisecond)) {
		out, _ := json.Marshal(late.Thresholds)
		t.Errorf("late segment not moved back 3 s: %s", out)
	}
}
