// Package compare judges a run against a baseline run: `loadplan compare BASE NEW` per step and
// per metric (requests/s, error rate, p50/p90/p95/p99) with tests that account for noise, and the
// baseline values of a plan's `baseline` threshold conditions (`apply --baseline FILE`).
//
// Its input is the segment summary format (outputs/summary.SegmentSummary): it carries every
// series with its exact histogram, which a rank test needs; the k6-layout summary export holds
// only a few quantiles. `apply --save-baseline FILE` writes one; `--segment-summary` files of a
// fleet are merged exactly (summary.Merge) before they are compared.
package compare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs/summary"
	"github.com/loadplan/loadplan/plan"
)

// Run is one side of a comparison: the series of a run (or of a fleet's merged segments).
type Run struct {
	Files      []string
	Series     []*metrics.Series
	Start, End time.Time
}

// Seconds is the run's length.
func (r *Run) Seconds() float64 { return r.End.Sub(r.Start).Seconds() }

// Load reads one run from arg: a segment summary file, a folder of them (*.json) or a glob
// pattern; several files are a fleet's segments and are merged exactly.
func Load(arg string) (*Run, error) {
	files, err := expand(arg)
	if err != nil {
		return nil, err
	}
	var segs []*summary.SegmentSummary
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if isExport(data) {
			return nil, fmt.Errorf("%s is a summary export (k6 layout), which holds a few quantiles, not the histograms a comparison tests: write the run with `apply --save-baseline FILE` or `--segment-summary FILE`", f)
		}
		seg, err := summary.ReadSegment(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		segs = append(segs, seg)
	}
	m, err := summary.Merge(segs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", arg, err)
	}
	return &Run{Files: files, Series: m.Store.Snapshot(), Start: m.Start, End: m.End}, nil
}

func expand(arg string) ([]string, error) {
	if st, err := os.Stat(arg); err == nil && st.IsDir() {
		files, _ := filepath.Glob(filepath.Join(arg, "*.json"))
		if len(files) == 0 {
			return nil, fmt.Errorf("%s: no *.json summaries in the folder", arg)
		}
		return files, nil
	} else if err == nil {
		return []string{arg}, nil
	}
	if strings.ContainsAny(arg, "*?[") {
		files, err := filepath.Glob(arg)
		if err != nil || len(files) == 0 {
			return nil, fmt.Errorf("%s: no file matches", arg)
		}
		return files, nil
	}
	_, err := os.Stat(arg)
	return nil, err
}

// isExport reports whether data is a k6-layout summary export rather than a segment summary.
func isExport(data []byte) bool {
	var probe struct {
		Metrics json.RawMessage `json:"metrics"`
		Version *int            `json:"version"`
	}
	return json.Unmarshal(data, &probe) == nil && probe.Metrics != nil && probe.Version == nil
}

// Resolve gives every baseline condition of p's thresholds ("p(95) < baseline * 1.10") the
// baseline run's value of the same metric, selector and aggregation, which sets its bound
// (metrics.Condition.ResolveBaseline). A condition the baseline has no value for (the series
// received no samples there: a new step) stays unresolved, hence skipped, and is named in the
// returned notes. Call it before the run starts: the conditions are the plan's own.
func Resolve(p *plan.Plan, base *Run) []string {
	var notes []string
	elapsed := base.End.Sub(base.Start)
	for _, t := range p.Thresholds {
		var series *metrics.Series
		for i := range t.Conditions {
			c := &t.Conditions[i]
			if !c.Baseline {
				continue
			}
			if series == nil {
				keep := func(k metrics.Key) bool { return k.Matches(t.Selector) }
				series = metrics.Combine(base.Series, t.Metric, keep)
				if metrics.Unanswerable(t.Metric) {
					un := metrics.Combine(base.Series, metrics.HTTPReqUnanswered, keep)
					series.Unanswered += uint64(un.Sum)
				}
			}
			v, ok := c.Observe(series, max(elapsed, time.Nanosecond))
			if !ok {
				notes = append(notes, fmt.Sprintf("threshold %s: %q skipped: the baseline has no samples of it", t.Name, c.Source))
				continue
			}
			c.ResolveBaseline(v)
		}
	}
	return notes
}
