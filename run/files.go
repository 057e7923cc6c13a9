package run

// Files returns the files the run's file outputs write (a CSV output's raw file or its Locust
// PREFIX_stats.csv, a JSON lines file), known once Start has succeeded: what a web UI offers for
// download beside the export files the Config names. Safe from any goroutine after Start.
func (r *Run) Files() []string {
	var out []string
	seen := map[string]bool{}
	add := func(paths ...string) {
		for _, p := range paths {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	for _, o := range r.outs {
		if f, ok := o.(interface{ Path() string }); ok && f.Path() != "" {
			add(f.Path())
		}
		if f, ok := o.(interface{ StatsPrefix() string }); ok && f.StatsPrefix() != "" {
			p := f.StatsPrefix()
			add(p+"_stats.csv", p+"_stats_history.csv", p+"_failures.csv", p+"_exceptions.csv")
		}
	}
	return out
}
