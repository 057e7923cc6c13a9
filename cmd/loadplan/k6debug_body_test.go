package main

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/loadplan/loadplan/plan"
)

// TestDebugBodyCut: --http-debug=full masks a body before cutting it at debugShown bytes, so a
// secret across the cut leaves no prefix behind; the cut falls on a UTF-8 boundary and says
// the body's whole length; a body within the bound is printed whole.
func TestDebugBodyCut(t *testing.T) {
	const secret = "s3cr3t-across-the-cut"
	d := newHTTPDebugger("full", nil, &plan.Plan{Secrets: []string{secret}}).(*httpDebugger)
	across := strings.Repeat("x", debugShown-5) + secret + strings.Repeat("y", 100)
	got := d.body([]byte(across))
	want := strings.Repeat("x", debugShown-5) + "***yy\n… (cut: 16500 bytes in all)"
	if got != want {
		t.Errorf("secret across the cut: ends %q, want %q", got[max(0, len(got)-60):], want[len(want)-60:])
	}
	wide := strings.Repeat("é", debugShown) // 2 bytes each: the bound falls inside one every other byte
	got = d.body([]byte("a" + wide))
	head := got[:strings.Index(got, "\n…")]
	if !utf8.ValidString(got) || len(head) != debugShown-1 || !strings.HasSuffix(got, "(cut: 32769 bytes in all)") {
		t.Errorf("multi-byte cut: valid %v, %d bytes kept, ends %q", utf8.ValidString(got), len(head), got[len(got)-30:])
	}
	if got := d.body([]byte("short " + secret)); got != "short ***" {
		t.Errorf("a short body: %q", got)
	}
	// The escaped spellings: in a JSON body, a query, a path.
	const odd = `pa"ss\wo rd/+`
	d = newHTTPDebugger("full", nil, &plan.Plan{Secrets: []string{odd}}).(*httpDebugger)
	for _, in := range []string{`{"pw":"pa\"ss\\wo rd/+"}`, "/x?t=pa%22ss%5Cwo+rd%2F%2B", "/x/pa%22ss%5Cwo%20rd%2F+", "/x/pa%22ss%5Cwo%20rd/+"} {
		if got := d.mask(in); strings.Contains(got, "pa") || !strings.Contains(got, "***") {
			t.Errorf("mask(%s) = %s", in, got)
		}
	}
}
