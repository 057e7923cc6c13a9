package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/loadplan/loadplan/internal/compare"
	"github.com/loadplan/loadplan/internal/report"
	"github.com/loadplan/loadplan/internal/webview"
	"github.com/loadplan/loadplan/plan"
)

// tolerance is a flag holding a fraction, written 10% or 0.10.
type tolerance float64

func (t *tolerance) String() string { return strconv.FormatFloat(100*float64(*t), 'g', -1, 64) + "%" }
func (t *tolerance) Set(s string) error {
	f, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || f < 0 {
		return fmt.Errorf("%q is not a tolerance: write 10%% or 0.10", s)
	}
	if strings.HasSuffix(strings.TrimSpace(s), "%") || f >= 1 {
		f /= 100
	}
	*t = tolerance(f)
	return nil
}

// runCompare compares two runs' summaries step by step: exit 0 when nothing regressed beyond the
// tolerance, 99 (a threshold's code, so CI treats it alike) when something did, naming it.
func runCompare(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tol := tolerance(0.10)
	fs.Var(&tol, "tolerance", "the change a metric may show before it counts as a regression, e.g. 10% or 0.05")
	asJSON := fs.Bool("json", false, "print the comparison as JSON")
	page := fs.String("report", "", "also write NEW's HTML report with a Comparison section to `FILE`")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: loadplan compare [-json] [--tolerance 10%] BASE NEW")
		fmt.Fprintln(stderr, "BASE and NEW are summaries written by apply --save-baseline or --segment-summary;")
		fmt.Fprintln(stderr, "a folder or a quoted glob of a fleet's segment summaries is merged first.")
		fs.PrintDefaults()
	}
	pos, code, ok := parsePositional(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 2 {
		fs.Usage()
		return exitUsage
	}
	base, err := compare.Load(pos[0])
	if err != nil {
		fmt.Fprintln(stderr, "loadplan compare: baseline:", err)
		return exitRuntime
	}
	next, err := compare.Load(pos[1])
	if err != nil {
		fmt.Fprintln(stderr, "loadplan compare: new:", err)
		return exitRuntime
	}
	res := compare.Compare(base, next, float64(tol))
	if *asJSON {
		err = res.WriteJSON(stdout)
	} else {
		err = res.WriteText(stdout)
	}
	if err == nil && *page != "" {
		var v *webview.View
		if v, err = report.Load(next.Files, report.Options{Version: version}); err == nil {
			v.Comparison = res.View()
			err = report.Write(*page, v)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadplan compare:", err)
		return exitRuntime
	}
	if res.Regressed() {
		for _, s := range res.Regressions {
			fmt.Fprintln(stderr, "loadplan compare: regression:", s)
		}
		return exitThreshold
	}
	return exitOK
}

// prepareBaseline handles apply's --baseline and --save-baseline before the run: it resolves
// the plan's baseline bounds and, when the run's segment summary is needed (to save it, or to
// compare it in the report) and none was asked for, has the run write one to a temporary file,
// removed by the returned func.
func prepareBaseline(opts *applyOptions, p *plan.Plan, stderr io.Writer, info func(string, ...any)) (*compare.Run, func(), int) {
	base, ok := applyBaseline(p, opts.baseline, stderr, info)
	if !ok {
		return nil, nil, exitRuntime
	}
	if opts.saveBase != "" && opts.segmentSum == "-" {
		fmt.Fprintln(stderr, "loadplan apply: --save-baseline keeps the segment summary: give --segment-summary a FILE, not -")
		return nil, nil, exitUsage
	}
	if (opts.saveBase != "" || base != nil && opts.report != "") && opts.segmentSum == "" {
		opts.segmentSum = filepath.Join(os.TempDir(), fmt.Sprintf("loadplan-baseline-%d.json", os.Getpid()))
		tmp := opts.segmentSum
		return base, func() { os.Remove(tmp) }, exitOK
	}
	return base, func() {}, exitOK
}

// finishBaseline handles them after the run: the report's comparison, the saved baseline.
func finishBaseline(opts *applyOptions, base *compare.Run, code int, stderr io.Writer, info func(string, ...any)) int {
	addComparison(opts.report, base, opts.segmentSum, stderr)
	return saveBaseline(opts.segmentSum, opts.saveBase, code, stderr, info)
}

// applyBaseline resolves the plan's baseline conditions against --baseline FILE and returns the
// baseline (ok false, the error printed, when the file cannot be read); without the flag they
// stay unresolved and are reported as skipped.
func applyBaseline(p *plan.Plan, file string, stderr io.Writer, info func(string, ...any)) (base *compare.Run, ok bool) {
	if file == "" {
		for _, t := range p.Thresholds {
			for _, c := range t.Conditions {
				if c.Baseline {
					info("threshold %s: %q is skipped: no --baseline FILE given", t.Name, c.Source)
				}
			}
		}
		return nil, true
	}
	base, err := compare.Load(file)
	if err != nil {
		fmt.Fprintln(stderr, "loadplan apply: --baseline:", err)
		return nil, false
	}
	for _, n := range compare.Resolve(p, base) {
		fmt.Fprintln(stderr, "loadplan apply:", n)
	}
	return base, true
}

// addComparison adds the "Comparison" section to the HTML report run wrote (apply --baseline
// --report): the run's own segment summary judged against the baseline, the page's view read
// back from the file and written again with the section, nothing else changed.
func addComparison(page string, base *compare.Run, segSum string, stderr io.Writer) {
	if base == nil || page == "" {
		return
	}
	err := func() error {
		next, err := compare.Load(segSum)
		if err != nil {
			return err
		}
		html, err := os.ReadFile(page)
		if err != nil {
			return err
		}
		const open = `type="application/json">`
		i := bytes.Index(html, []byte(open))
		j := bytes.Index(html[max(i, 0):], []byte("</script>"))
		var v webview.View
		if i < 0 || j < 0 {
			return errors.New("no view in the page")
		}
		if err := json.Unmarshal(html[i+len(open):i+j], &v); err != nil {
			return err
		}
		res := compare.Compare(base, next, 0.10)
		res.New = []string{"this run"}
		v.Comparison = res.View()
		return report.Write(page, &v)
	}()
	if err != nil {
		fmt.Fprintln(stderr, "loadplan apply: --report: comparison with the baseline:", err)
	}
}

// saveBaseline copies the run's segment summary to --save-baseline FILE after a passing run;
// a failed run leaves the previous baseline in place.
func saveBaseline(from, to string, code int, stderr io.Writer, info func(string, ...any)) int {
	if to == "" {
		return code
	}
	if code != exitOK {
		info("not saving the baseline %s: the run did not pass (exit %d)", to, code)
		return code
	}
	data, err := os.ReadFile(from)
	if err == nil {
		tmp := filepath.Join(filepath.Dir(to), "."+filepath.Base(to)+".tmp")
		if err = os.WriteFile(tmp, data, 0o644); err == nil {
			err = os.Rename(tmp, to)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadplan apply: --save-baseline:", err)
		return exitRuntime
	}
	info("baseline saved to %s", to)
	return code
}
