package compare

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/loadplan/loadplan/internal/webview"
)

// format renders a row's value in its unit.
func format(metric string, v float64) string {
	switch {
	case metric == "requests/s":
		return strconv.FormatFloat(v, 'f', 1, 64) + "/s"
	case metric == "error rate":
		return strconv.FormatFloat(100*v, 'f', 2, 64) + "%"
	case strings.HasPrefix(metric, "p("):
		if v >= 1000 {
			return strconv.FormatFloat(v/1000, 'f', 2, 64) + "s"
		}
		return strconv.FormatFloat(v, 'f', 2, 64) + "ms"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// WriteText writes the comparison as a terminal table, one block of rows per step, and the
// regressions last.
func (r *Result) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "baseline: %s\nnew:      %s\ntolerance %.0f%%, significance %.0f%% (one-sided)\n\n",
		strings.Join(r.Base, " "), strings.Join(r.New, " "), 100*r.Tolerance, 100*r.Alpha)
	fmt.Fprintln(tw, "STEP\tMETRIC\tBASELINE\tNEW\tCHANGE\tP\tVERDICT")
	for _, st := range r.Steps {
		if len(st.Rows) == 0 {
			fmt.Fprintf(tw, "%s\t\t%d req\t%d req\t\t\t%s\n", st.Name, st.Base, st.New, st.Verdict)
			continue
		}
		for i, row := range st.Rows {
			name := ""
			if i == 0 {
				name = st.Name
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%+.1f%%\t%.2g\t%s\n", name, row.Metric, format(row.Metric, row.Base),
				format(row.Metric, row.New), 100*row.Change, row.P, row.Verdict)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !r.Regressed() {
		_, err := fmt.Fprintf(w, "\nno regression beyond %.0f%%\n", 100*r.Tolerance)
		return err
	}
	fmt.Fprintf(w, "\n%d regression(s):\n", len(r.Regressions))
	for _, s := range r.Regressions {
		fmt.Fprintln(w, "  "+s)
	}
	return nil
}

// WriteJSON writes the comparison as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// View returns the comparison as the HTML report's "Comparison" section shows it.
func (r *Result) View() *webview.Comparison {
	c := &webview.Comparison{Base: r.Base, Tolerance: r.Tolerance, Regressions: append([]string{}, r.Regressions...),
		Steps: []webview.CompareStep{}}
	for _, st := range r.Steps {
		s := webview.CompareStep{Name: st.Name, Verdict: st.Verdict, BaseRequests: st.Base, NewRequests: st.New,
			Rows: []webview.CompareRow{}}
		for _, row := range st.Rows {
			s.Rows = append(s.Rows, webview.CompareRow{Metric: row.Metric, Base: webview.Num(row.Base), New: webview.Num(row.New),
				Change: webview.Num(row.Change), P: webview.Num(row.P), Verdict: row.Verdict})
		}
		c.Steps = append(c.Steps, s)
	}
	return c
}
