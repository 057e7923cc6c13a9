package main

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclwrite"
)

// bigPlan returns an unformatted plan of about n lines (every attribute misaligned, so that
// hclwrite.Format changes a third of them) and its canonical form.
func bigPlan(n int) (src, formatted string) {
	var b strings.Builder
	for i := 0; b.Len() == 0 || strings.Count(b.String(), "\n") < n; i++ {
		fmt.Fprintf(&b, "target \"t%d\" {\n  base_url = \"http://127.0.0.1:8000\"\n  timeout=\"10s\"\n}\n\n", i)
	}
	src = b.String()
	return src, string(hclwrite.Format([]byte(src)))
}

// TestUnifiedDiffMemory: the diff of an 8,000-line plan allocates a bounded amount — the LCS table
// it replaced allocated 533 MB here (8k × 8k ints); go-udiff needs a few MB.
func TestUnifiedDiffMemory(t *testing.T) {
	src, out := bigPlan(8000)
	if src == out {
		t.Fatal("the test plan is already formatted")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	d := unifiedDiff("big.hcl", src, out)
	runtime.ReadMemStats(&after)
	const bound = 32 << 20
	if got := after.TotalAlloc - before.TotalAlloc; got > bound {
		t.Errorf("diff of %d lines allocated %d bytes, want at most %d", strings.Count(src, "\n"), got, bound)
	}
	if got := applyUnified(t, src, d); got != out {
		t.Error("the 8k-line diff applied to the source does not give the formatted file")
	}
}

// TestUnifiedDiffApplies: on random line edits the diff, applied to a, gives b exactly (each
// hunk's context and removed lines match a at the stated line numbers).
func TestUnifiedDiffApplies(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"a", "b", "c", "d", "}", "  x = 1", ""}
	for n := range 300 {
		var al, bl []string
		for range r.IntN(40) {
			w := words[r.IntN(len(words))]
			switch r.IntN(4) {
			case 0:
				al = append(al, w)
			case 1:
				bl = append(bl, w)
			default:
				al, bl = append(al, w), append(bl, w)
			}
		}
		a, b := strings.Join(al, "\n")+"\n", strings.Join(bl, "\n")+"\n"
		d := unifiedDiff("f", a, b)
		if a == b {
			if d != "" {
				t.Fatalf("case %d: equal inputs gave a diff:\n%s", n, d)
			}
			continue
		}
		if got := applyUnified(t, a, d); got != b {
			t.Fatalf("case %d: applying\n%s\nto %q gave %q, want %q", n, d, a, got, b)
		}
	}
}

// applyUnified applies a unified diff d (as unifiedDiff writes it) to a, checking every context
// and removed line against a.
func applyUnified(t *testing.T, a, d string) string {
	t.Helper()
	var src []string
	if a != "" {
		src = strings.Split(strings.TrimSuffix(a, "\n"), "\n") // "\n" is one empty line
	}
	var out []string
	next := 0 // the next line of src not yet copied
	lines := splitLines(d)
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "--- ") || !strings.HasPrefix(lines[1], "+++ ") {
		t.Fatalf("no diff header:\n%s", d)
	}
	for _, l := range lines[2:] {
		switch {
		case strings.HasPrefix(l, "@@ -"):
			start, _, _ := strings.Cut(strings.TrimPrefix(l, "@@ -"), ",")
			start, _, _ = strings.Cut(start, " ")
			n, err := strconv.Atoi(start)
			if err != nil {
				t.Fatalf("bad hunk header %q", l)
			}
			if n > 0 {
				n-- // 1-based, except for an empty range
			}
			out = append(out, src[next:n]...)
			next = n
		case strings.HasPrefix(l, "+"):
			out = append(out, l[1:])
		case strings.HasPrefix(l, "-"), strings.HasPrefix(l, " "):
			if next >= len(src) || src[next] != l[1:] {
				t.Fatalf("line %d: diff says %q", next+1, l)
			}
			if l[0] == ' ' {
				out = append(out, l[1:])
			}
			next++
		case strings.HasPrefix(l, `\`):
		default:
			t.Fatalf("unexpected diff line %q", l)
		}
	}
	out = append(out, src[next:]...)
	if len(out) == 0 && len(src) == 0 {
		return ""
	}
	return strings.Join(out, "\n") + "\n"
}

// BenchmarkUnifiedDiff compares, on an 8,000-line plan whose formatting changes a third of the
// lines, the go-udiff diff fmt -diff uses with the LCS table it replaced (run with -benchmem).
func BenchmarkUnifiedDiff(b *testing.B) {
	src, out := bigPlan(8000)
	b.Run("udiff", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = unifiedDiff("big.hcl", src, out)
		}
	})
	b.Run("lcs-table", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = lcsTableDiff("big.hcl", src, out)
		}
	})
}
