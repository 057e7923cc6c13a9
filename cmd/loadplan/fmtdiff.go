package main

import "github.com/aymanbagabas/go-udiff"

// diffContext is the number of unchanged lines around each hunk, as in `diff -u` and `terraform fmt -diff`.
const diffContext = 3

// unifiedDiff renders the line diff of a and b in unified format with 3 lines of context; "" when
// they are equal.
//
// It uses go-udiff's line diff (gopls's bounded-work Myers LCS), whose memory grows with the
// files' length and the differences, not with the product of the two lengths: the LCS table it
// replaced allocated 533 MB for an 8,000-line plan (BenchmarkUnifiedDiff and
// TestUnifiedDiffMemory in fmtdiff_test.go hold the figure).
func unifiedDiff(name, a, b string) string {
	if a == b {
		return ""
	}
	edits := udiff.Lines(a, b)
	d, err := udiff.ToUnified(name, name+" (formatted)", a, edits, diffContext)
	if err != nil { // edits computed from a itself always apply; keep the diff honest anyway
		return "--- " + name + "\n+++ " + name + " (formatted)\n(diff unavailable: " + err.Error() + ")\n"
	}
	return d
}
