package summary

import (
	"bytes"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
)

// TestSegmentGaugesAddUp: two instances running 25 and 30 VUs of one plan are a fleet of 55.
func TestSegmentGaugesAddUp(t *testing.T) {
	var segs []*SegmentSummary
	for i, vus := range []float64{25, 30} {
		s := New()
		var batch []metrics.Sample
		for sec := 0; sec < 10; sec++ {
			at := t0.Add(time.Duration(sec) * time.Second).UnixNano()
			v := vus * float64(sec) / 9 // a ramp from 0 to vus
			batch = append(batch, metrics.Sample{Metric: metrics.VUs, Time: at, Value: v},
				metrics.Sample{Metric: metrics.VUsMax, Time: at, Value: vus})
		}
		s.Emit(batch)
		r := &Report{Title: "p.hcl", Segment: []string{"1/2", "2/2"}[i], Start: t0, End: t0.Add(10 * time.Second),
			Series: s.Store().Snapshot()}
		segs = append(segs, viaFile(t, r, nil))
	}
	m, err := Merge(segs)
	if err != nil {
		t.Fatal(err)
	}
	all := m.Store.Snapshot()
	vusMax := metrics.Combine(all, metrics.VUsMax, nil)
	vus := metrics.Combine(all, metrics.VUs, nil)
	if vusMax.Last != 55 || vusMax.Max != 55 {
		t.Errorf("fleet vus_max last %v max %v, want 55", vusMax.Last, vusMax.Max)
	}
	if vus.Max != 55 || vus.Min != 0 || vus.Last != 55 {
		t.Errorf("fleet vus min %v max %v last %v, want 0, 55, 55", vus.Min, vus.Max, vus.Last)
	}
}

// viaFile builds r's segment summary and reads it back as `loadplan merge` would.
func viaFile(t *testing.T, r *Report, states []metrics.ThresholdState) *SegmentSummary {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteSegment(&buf, BuildSegment(r, nil, states)); err != nil {
		t.Fatal(err)
	}
	seg, err := ReadSegment(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return seg
}
