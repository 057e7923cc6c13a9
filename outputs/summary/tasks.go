package summary

import (
	"fmt"
	"strings"

	"github.com/loadplan/loadplan/metrics"
)

// writeTasks renders the scenario's tasks (issue 12): each task's iterations and share of the
// scenario's, beside the share its weight asks for when the plan is known. A task without
// iterations still has its row.
func (r *Report) writeTasks(b *strings.Builder, scenario string) {
	type taskRow struct {
		name       string
		iterations float64
		want       float64 // the weight's share; -1 when the plan is unknown
	}
	var rows []*taskRow
	idx := map[string]*taskRow{}
	if r.Plan != nil {
		for _, sc := range r.Plan.Scenarios {
			if sc.Name != scenario {
				continue
			}
			for i, share := range sc.TaskShares() {
				tr := &taskRow{name: sc.Tasks[i].Name, want: share}
				idx[tr.name] = tr
				rows = append(rows, tr)
			}
		}
	}
	total := 0.0
	for _, s := range r.Series {
		t := s.Key.Tags
		if s.Key.Metric != metrics.Iterations || t == nil || t.Scenario != scenario || t.Task == "" {
			continue
		}
		tr := idx[t.Task]
		if tr == nil {
			tr = &taskRow{name: t.Task, want: -1}
			idx[t.Task] = tr
			rows = append(rows, tr)
		}
		tr.iterations += s.Sum
		total += s.Sum
	}
	if len(rows) == 0 {
		return
	}
	names := []string{"task"}
	for _, tr := range rows {
		names = append(names, metrics.Escape(tr.name))
	}
	pad := leftPad(names...)
	tw := newTab(b)
	fmt.Fprintln(tw, "    "+pad("task")+"\titerations\tshare\tweight share\t")
	for _, tr := range rows {
		share, want := "-", "-"
		if total > 0 {
			share = fmt.Sprintf("%.1f%%", 100*tr.iterations/total)
		}
		if tr.want >= 0 {
			want = fmt.Sprintf("%.1f%%", 100*tr.want)
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t\n", pad(metrics.Escape(tr.name)), num(tr.iterations), share, want)
	}
	tw.Flush()
}
