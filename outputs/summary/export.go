package summary

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/loadplan/loadplan/metrics"
)

// Export is k6's --summary-export layout: metrics by name (submetrics as `name{tag:value}`), each
// with the fields of its kind, durations in milliseconds; checks in root_group.
//
// In each metric's "thresholds" object a condition maps to true when it FAILED, as in k6's
// summary export (k6 kept that inverted flag for compatibility).
type Export struct {
	Metrics   map[string]map[string]any `json:"metrics"`
	RootGroup Group                     `json:"root_group"`
	State     ExportState               `json:"state"`
	// Loadplan is the web view of the run (internal/webview.View: meta, step table, checks,
	// errors, thresholds and the per-interval series, bounded by TimelineMaxBuckets), for
	// `loadplan report` and for readers who want more than k6's layout; absent when the Report
	// has no View.
	Loadplan any `json:"loadplan,omitempty"`
}

// Group is a k6 group: loadplan maps each scenario to a group under the root group.
type Group struct {
	Name   string            `json:"name"`
	Path   string            `json:"path"`
	ID     string            `json:"id"`
	Groups map[string]*Group `json:"groups"`
	Checks map[string]*Check `json:"checks"`
}

// Check is a k6 check with its pass and fail counts.
type Check struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	ID     string `json:"id"`
	Passes uint64 `json:"passes"`
	Fails  uint64 `json:"fails"`
}

// ExportState carries the run's length, as k6's handleSummary data does.
type ExportState struct {
	TestRunDurationMs float64 `json:"testRunDurationMs"`
}

func groupID(path string) string {
	sum := md5.Sum([]byte(path))
	return hex.EncodeToString(sum[:])
}

// values returns the k6 summary fields of a series of metric m.
func values(m metrics.Metric, s *metrics.Series, secs float64) map[string]any {
	switch m.Kind() {
	case metrics.Counter:
		return map[string]any{"count": s.Sum, "rate": s.Sum / secs}
	case metrics.Gauge:
		return map[string]any{"value": s.Last, "min": s.Min, "max": s.Max}
	case metrics.Rate:
		v := 0.0
		if s.Count > 0 {
			v = float64(s.Trues) / float64(s.Count)
		}
		return map[string]any{"passes": s.Trues, "fails": s.Count - s.Trues, "value": v}
	}
	h := s.Hist
	if h == nil {
		h = &metrics.Histogram{}
	}
	return map[string]any{"avg": h.Mean(), "min": h.Min, "med": h.Quantile(0.5), "max": h.Max,
		"p(90)": h.Quantile(0.9), "p(95)": h.Quantile(0.95), "p(99)": h.Quantile(0.99)}
}

// BuildExport assembles the summary export.
func (r *Report) BuildExport() *Export {
	secs := r.Duration().Seconds()
	ex := &Export{Metrics: map[string]map[string]any{}, State: ExportState{TestRunDurationMs: float64(r.Duration().Microseconds()) / 1000},
		Loadplan: r.View}
	seen := map[metrics.Metric]bool{}
	for _, s := range r.Series {
		seen[s.Key.Metric] = true
	}
	for m := range seen {
		ex.Metrics[m.String()] = values(m, r.Total(m), secs)
	}
	for _, v := range r.Verdicts {
		name := v.Metric.String() + metrics.SelectorString(v.Selector)
		entry := ex.Metrics[name]
		if entry == nil {
			entry = values(v.Metric, metrics.Combine(r.Series, v.Metric, v.Matches), secs)
			ex.Metrics[name] = entry
		}
		ths, _ := entry["thresholds"].(map[string]bool)
		if ths == nil {
			ths = map[string]bool{}
			entry["thresholds"] = ths
		}
		suffix := "" // scoped thresholds get their scope in the key, so keys stay unique
		switch {
		case v.Window > 0:
			suffix = " [window " + v.Window.String() + "]"
		case v.Stage > 0:
			suffix = " [stage " + fmt.Sprint(v.Stage) + "]"
		}
		for _, c := range v.Outcomes {
			ths[c.Condition.Source+suffix] = !c.Pass
		}
	}
	ex.RootGroup = Group{Name: "", Path: "", ID: groupID(""), Groups: map[string]*Group{}, Checks: map[string]*Check{}}
	for _, c := range r.checkRows() {
		g := ex.RootGroup.Groups[c.scenario]
		if g == nil {
			path := "::" + c.scenario
			g = &Group{Name: c.scenario, Path: path, ID: groupID(path), Groups: map[string]*Group{}, Checks: map[string]*Check{}}
			ex.RootGroup.Groups[c.scenario] = g
		}
		name := c.step + ": " + c.name
		ck := g.Checks[name]
		if ck == nil {
			path := g.Path + "::" + name
			ck = &Check{Name: name, Path: path, ID: groupID(path)}
			g.Checks[name] = ck
		}
		ck.Passes += c.pass
		ck.Fails += c.total - c.pass
	}
	return ex
}

// WriteExport writes the summary export as indented JSON; its "loadplan" view, last, on one
// line: indented, its columns of per-interval numbers would take a line per number.
func (r *Report) WriteExport(w io.Writer) error {
	ex := r.BuildExport()
	view := ex.Loadplan
	ex.Loadplan = nil
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // "p(95)<300" as k6 writes it, not "p(95)\u003c300"
	if err := enc.Encode(ex); err != nil {
		return err
	}
	if view != nil {
		v, err := json.Marshal(view)
		if err != nil {
			return err
		}
		b.Truncate(len(bytes.TrimSuffix(b.Bytes(), []byte("\n}\n")))) // the root object's end
		b.WriteString(",\n  \"loadplan\": ")
		b.Write(v)
		b.WriteString("\n}\n")
	}
	_, err := w.Write(b.Bytes())
	return err
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

// junitSkipped marks a threshold whose baseline bounds were not judged (no --baseline).
type junitSkipped struct {
	Message string `xml:"message,attr"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes JUnit XML with one test case per threshold; a failed threshold's failure
// message names the failed conditions and their observed values. Result files that could not be
// written completely (Incomplete) are one more failed test case, in a suite of their own.
func (r *Report) WriteJUnit(w io.Writer) error {
	dur := fmt.Sprintf("%.3f", r.Duration().Seconds())
	suite := junitSuite{Name: "loadplan thresholds", Time: dur}
	if r.Title != "" {
		suite.Name += " (" + r.Title + ")"
	}
	for _, v := range r.Verdicts {
		var conds []string
		for _, c := range v.Conditions {
			conds = append(conds, c.Source)
		}
		tc := junitCase{Name: v.Name + ": " + strings.Join(conds, ", "), Classname: "loadplan.thresholds", Time: dur}
		if sc := v.Scope(); sc != "" {
			tc.Name += " [" + sc + "]"
		}
		tc.SystemOut = "observed " + v.Summary()
		if !v.Pass {
			msg := v.Failure()
			tc.Failure = &junitFailure{Message: msg, Type: "threshold", Text: msg}
			suite.Failures++
		} else if v.Skipped() {
			tc.Skipped = &junitSkipped{Message: metrics.SkippedNote}
		}
		suite.Tests++
		suite.Cases = append(suite.Cases, tc)
	}
	doc := junitSuites{Name: "loadplan", Tests: suite.Tests, Failures: suite.Failures, Time: dur, Suites: []junitSuite{suite}}
	if len(r.Incomplete) > 0 {
		msg := strings.Join(r.Incomplete, "\n")
		doc.Suites = append(doc.Suites, junitSuite{Name: "loadplan result files", Tests: 1, Failures: 1, Time: dur,
			Cases: []junitCase{{Name: "every result file written completely", Classname: "loadplan.results", Time: dur,
				Failure: &junitFailure{Message: msg, Type: "incomplete result file", Text: msg}}}})
		doc.Tests++
		doc.Failures++
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
