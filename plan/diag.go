package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// errorAt appends an error diagnostic at rng. detail says how to fix the problem.
func (l *loader) errorAt(rng hcl.Range, summary, detail string, args ...any) {
	r := rng
	if len(args) > 0 {
		detail = fmt.Sprintf(detail, args...)
	}
	l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: &r})
}

// warnAt appends a warning diagnostic at rng.
func (l *loader) warnAt(rng hcl.Range, summary, detail string, args ...any) {
	r := rng
	if len(args) > 0 {
		detail = fmt.Sprintf(detail, args...)
	}
	l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary, Detail: detail, Subject: &r})
}

// errorNoRange appends an error that has no place in a file (a -var flag, an environment variable).
func (l *loader) errorNoRange(summary, detail string, args ...any) {
	if len(args) > 0 {
		detail = fmt.Sprintf(detail, args...)
	}
	l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail})
}

// add appends diags.
func (l *loader) add(diags hcl.Diagnostics) { l.diags = append(l.diags, diags...) }

// suggest returns the candidate closest to given, or "" when none is close enough to be a typo.
func suggest(given string, candidates []string) string {
	best, bestDist := "", 1<<30
	for _, c := range candidates {
		d := levenshtein(strings.ToLower(given), strings.ToLower(c))
		if d < bestDist || (d == bestDist && c < best) {
			best, bestDist = c, d
		}
	}
	limit := 1
	switch {
	case len(given) > 8:
		limit = 3
	case len(given) > 4:
		limit = 2
	}
	if best == "" || bestDist > limit {
		return ""
	}
	return best
}

// didYouMean returns ` Did you mean "x"?` for the closest candidate, or a list of valid values.
func didYouMean(given string, candidates []string) string {
	if s := suggest(given, candidates); s != "" {
		return fmt.Sprintf(" Did you mean %q?", s)
	}
	if len(candidates) == 0 {
		return ""
	}
	if len(candidates) > 12 {
		return ""
	}
	return " Valid values: " + quoteList(candidates) + "."
}

// quoteList renders names as "a", "b" and "c".
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	switch len(q) {
	case 0:
		return "(none)"
	case 1:
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// levenshtein is the edit distance between a and b, counting a swap of two neighbouring letters
// as one edit (optimal string alignment), the commonest typo.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// sortedAttrs returns a block's attributes in source order.
func sortedAttrs(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Range.Start.Byte < out[j].Range.Start.Byte })
	return out
}

// labelRange returns the range of a block's first label, or its type when it has none.
func labelRange(b *hcl.Block) hcl.Range {
	if len(b.LabelRanges) > 0 {
		return b.LabelRanges[0]
	}
	return b.TypeRange
}

// names tracks names declared in one namespace to report duplicates.
type names struct {
	kind string // "scenario", "target", ...
	seen map[string]hcl.Range
}

func newNames(kind string) *names { return &names{kind: kind, seen: map[string]hcl.Range{}} }

// declare records name at rng and reports a duplicate; it returns false for a duplicate.
func (n *names) declare(l *loader, name string, rng hcl.Range) bool {
	if first, ok := n.seen[name]; ok {
		l.errorAt(rng, "Duplicate "+n.kind+" name",
			"A %s named %q was already declared at %s. Names must be unique: rename one of them.",
			n.kind, name, shortRange(first))
		return false
	}
	n.seen[name] = rng
	return true
}

// shortRange renders file:line:col.
func shortRange(r hcl.Range) string {
	return fmt.Sprintf("%s:%d,%d", r.Filename, r.Start.Line, r.Start.Column)
}
