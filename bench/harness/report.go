package main

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// results holds every measurement of a harness run: for each case (e.g. "tput/wrk") one map of
// named figures per round, in the order the rounds ran.
type results struct {
	rounds   map[string][]map[string]float64
	order    []string
	notes    []string // shown under the tables
	failures []string // runs that failed, with why
}

func newResults() *results { return &results{rounds: map[string][]map[string]float64{}} }

// add records one round of case key.
func (r *results) add(key string, vals map[string]float64) {
	if _, ok := r.rounds[key]; !ok {
		r.order = append(r.order, key)
	}
	r.rounds[key] = append(r.rounds[key], vals)
}

func (r *results) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.failures = append(r.failures, msg)
	logf("FAILED: %s", msg)
}

func (r *results) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// stat is the median and range of one figure across rounds.
type stat struct {
	med, min, max float64
	n             int
}

// get returns the stat of field across the rounds of key; n == 0 when it was never measured.
func (r *results) get(key, field string) stat {
	var vs []float64
	for _, m := range r.rounds[key] {
		if v, ok := m[field]; ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return stat{}
	}
	sort.Float64s(vs)
	s := stat{min: vs[0], max: vs[len(vs)-1], n: len(vs)}
	if len(vs)%2 == 1 {
		s.med = vs[len(vs)/2]
	} else {
		s.med = (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
	}
	return s
}

// num formats v with prec decimals and thousands separators for large values.
func num(v float64, prec int) string {
	s := fmt.Sprintf("%.*f", prec, v)
	if math.Abs(v) < 10000 {
		return s
	}
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String()
	if neg {
		out = "-" + out
	}
	if frac != "" {
		out += "." + frac
	}
	return out
}

// cell formats a stat as "median (min–max)", or "—" when not measured.
func (s stat) cell(prec int) string {
	if s.n == 0 {
		return "—"
	}
	if s.n == 1 || num(s.min, prec) == num(s.max, prec) {
		return num(s.med, prec)
	}
	return fmt.Sprintf("%s (%s–%s)", num(s.med, prec), num(s.min, prec), num(s.max, prec))
}

// f is the stat of key.field formatted with prec decimals.
func (r *results) f(key, field string, prec int) string { return r.get(key, field).cell(prec) }

// table is a Markdown table under construction.
type table struct {
	head []string
	rows [][]string
}

func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) String() string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(t.head, " | ") + " |\n|")
	for range t.head {
		b.WriteString("---|")
	}
	b.WriteByte('\n')
	for _, r := range t.rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	return b.String()
}

// verdict says whether a measured median meets a budget: "✓", "✗", or "—" when not measured.
func verdict(s stat, ok func(float64) bool) string {
	if s.n == 0 {
		return "— not measured"
	}
	if ok(s.med) {
		return "✓"
	}
	return "✗"
}

// rawRounds renders every figure of every round, for readers who want more than the medians.
func (r *results) rawRounds() string {
	var b strings.Builder
	for _, key := range r.order {
		fields := map[string]bool{}
		for _, m := range r.rounds[key] {
			for k := range m {
				fields[k] = true
			}
		}
		names := make([]string, 0, len(fields))
		for k := range fields {
			names = append(names, k)
		}
		sort.Strings(names)
		t := &table{head: append([]string{"round"}, names...)}
		for i, m := range r.rounds[key] {
			cells := []string{fmt.Sprint(i + 1)}
			for _, n := range names {
				if v, ok := m[n]; ok {
					cells = append(cells, num(v, 3))
				} else {
					cells = append(cells, "")
				}
			}
			t.row(cells...)
		}
		fmt.Fprintf(&b, "**%s**\n\n%s\n", key, t)
	}
	return b.String()
}
