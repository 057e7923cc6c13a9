package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/browsertest"
)

// TestCompareReportInBrowser opens the report `compare -report` writes in Chromium: the
// Comparison section is drawn (its steps with the server's request counts, a row per metric),
// with no console or page error and no request but the file.
func TestCompareReportInBrowser(t *testing.T) {
	browsertest.Need(t)
	srv := newTwoStepServer(t, 5*time.Millisecond, 5*time.Millisecond)
	plan := writeComparePlan(t, "")
	dir := t.TempDir()
	base, next, page := filepath.Join(dir, "base.json"), filepath.Join(dir, "new.json"), filepath.Join(dir, "cmp.html")
	for _, f := range []string{base, next} {
		if r := saveRun(t, srv, plan, f); r.code != exitOK {
			t.Fatalf("apply: exit %d\n%s", r.code, r.stderr)
		}
	}
	// Two runs one after the other may differ (the machine's load): the verdict is not what this
	// test checks, the page is.
	if r := runCLI(t, "compare", "-report", page, base, next); r.code != exitOK && r.code != exitThreshold {
		t.Fatalf("compare -report: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(page); err != nil {
		t.Fatal(err)
	}
	p := openReports(t, page)[0]
	if msg := p.Log.Clean(); msg != "" || len(p.Log.Requests) != 1 {
		t.Errorf("page: %s; requests %q", msg, p.Log.Requests)
	}
	i := strings.Index(p.Text, "Comparison")
	if i < 0 {
		t.Fatalf("no Comparison section in the page:\n%.2000s", p.Text)
	}
	sec := p.Text[i:]
	if j := strings.Index(sec, "Thresholds"); j > 0 {
		sec = sec[:j]
	}
	for _, want := range []string{"a/fast", "b/slowed", "requests/s", "error rate", "p(50)", "p(99)"} {
		if !strings.Contains(sec, want) {
			t.Errorf("Comparison section lacks %q:\n%s", want, sec)
		}
	}
	if n := strings.Count(sec, "p(95)"); n != 2 {
		t.Errorf("Comparison section has %d p(95) rows, want 2 (one per step):\n%s", n, sec)
	}
	t.Logf("server saw /a %d, /b %d; section:\n%s", srv.hitsA.Load(), srv.hitsB.Load(), sec)
}
