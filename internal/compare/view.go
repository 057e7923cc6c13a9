package compare

import "github.com/loadplan/loadplan/internal/webview"

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
