package prometheus

import (
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
)

// everyMetric returns a sample of every metric loadplan has, so that no family is left out.
func everyMetric() []metrics.Sample {
	now := time.Now().UnixNano()
	var out []metrics.Sample
	for _, m := range metrics.All() {
		s := metrics.Sample{Metric: m, Time: now, Value: 1, Tags: quote, Status: 200}
		if m == metrics.Checks || m == metrics.Errors || m == metrics.WSErrors {
			s.Label = "x"
		}
		out = append(out, s)
	}
	return out
}

// TestEverySeriesCarriesItsSegment: in a segmented run every series of every family carries
// segment="2/4" (what the dashboards sum over, and what tells the fleet's instances apart); an
// unsegmented run has no segment label at all, rather than an empty or made-up one, so its
// series are those of a plain run and `sum by (segment)` shows it as one unlabelled instance.
func TestEverySeriesCarriesItsSegment(t *testing.T) {
	for _, seg := range []string{"2/4", ""} {
		p, err := New(Config{Listen: "127.0.0.1:0", TestID: "t"}, outputs.Options{PlanName: "p", SegmentName: seg})
		if err != nil {
			t.Fatal(err)
		}
		p.Emit(everyMetric())
		families, err := p.Gatherer().Gather()
		if err != nil {
			t.Fatal(err)
		}
		series := 0
		for _, f := range families {
			for _, m := range f.Metric {
				series++
				got, has := "", false
				for _, l := range m.Label {
					if l.GetName() == "segment" {
						got, has = l.GetValue(), true
					}
				}
				if has != (seg != "") || got != seg {
					t.Errorf("segment %q: %s has segment label %v %q", seg, f.GetName(), has, got)
				}
			}
		}
		// Every metric gives a series, the rates two.
		if min := len(metrics.All()); series < min {
			t.Errorf("segment %q: %d series for %d metrics", seg, series, min)
		}
	}
}
