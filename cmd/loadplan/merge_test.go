package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loadplan/loadplan/internal/webview"
)

func TestMergeSegments(t *testing.T) {
	srv := newCounter(t, 0)
	file := writePlan(t, "/ok", iterations200, `threshold "http_reqs" {
  condition = "count == 200"
}`)
	dir := t.TempDir()
	var segs []string
	var perSeg []int64
	for _, s := range []string{"1/2", "2/2"} {
		before := srv.hits.Load()
		seg := filepath.Join(dir, "seg"+s[:1]+".json")
		r := runCLI(t, "apply", "--quiet", "-var", "host="+srv.srv.URL, "--segment", s, "--segment-summary", seg, file)
		// Each segment alone runs its share, so its own count == 200 would fail: merge judges it.
		if r.code != exitOK {
			t.Fatalf("segment %s: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", s, r.code, r.stdout, r.stderr)
		}
		segs = append(segs, seg)
		perSeg = append(perSeg, srv.hits.Load()-before)
	}
	export, page := filepath.Join(dir, "merged.json"), filepath.Join(dir, "merged.html")
	r := runCLI(t, append([]string{"merge", "-plan", file, "-var", "host=http://127.0.0.1:1", "--summary-export", export, "--report", page}, segs...)...)
	if r.code != exitOK {
		t.Fatalf("merge: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if got := exportedCount(t, export, "http_reqs"); got != float64(perSeg[0]+perSeg[1]) || got != float64(srv.hits.Load()) {
		t.Errorf("merged http_reqs = %v, segments made %v, server saw %d", got, perSeg, srv.hits.Load())
	}
	// The fleet's view, in the export (what `loadplan report` renders) and in the HTML report:
	// the server's count, the threshold judged over the fleet, both segments' timelines.
	var doc0 struct {
		View *webview.View `json:"loadplan"`
	}
	data0, _ := os.ReadFile(export)
	if err := json.Unmarshal(data0, &doc0); err != nil || doc0.View == nil {
		t.Fatalf("merged export has no view (%v)", err)
	}
	html, _ := os.ReadFile(page)
	i, j := bytes.Index(html, []byte(`type="application/json">`)), bytes.Index(html, []byte("</script>"))
	var inPage webview.View
	if i < 0 || j < i || json.Unmarshal(html[i+len(`type="application/json">`):j], &inPage) != nil {
		t.Fatalf("merged report holds no view:\n%.400s", html)
	}
	for name, v := range map[string]*webview.View{"export": doc0.View, "report": &inPage} {
		if v.Totals.Requests != uint64(srv.hits.Load()) || len(v.Thresholds) != 1 || !v.Thresholds[0].Pass {
			t.Errorf("%s: %d requests, thresholds %+v; server saw %d, want the threshold passed", name, v.Totals.Requests, v.Thresholds, srv.hits.Load())
		}
		if v.Timeline == nil || len(v.Timeline.T) == 0 {
			t.Errorf("%s: no per-interval series from the segments' timelines", name)
		}
	}
	// The same segments judged against a stricter plan: the fleet's 200 requests miss it.
	strict := writePlan(t, "/ok", iterations200, `threshold "http_reqs" {
  condition = "count > 1000"
}`)
	junit := filepath.Join(dir, "merged.xml")
	r = runCLI(t, append([]string{"merge", "-plan", strict, "-var", "host=http://127.0.0.1:1", "--junit", junit}, segs...)...)
	if r.code != exitThreshold {
		t.Fatalf("merge against a stricter plan: exit %d, want 99\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	var doc struct {
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Cases []struct {
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	data, _ := os.ReadFile(junit)
	if err := xml.Unmarshal(data, &doc); err != nil || doc.Failures != 1 ||
		!strings.Contains(doc.Suites[0].Cases[0].Failure.Message, "count > 1000: observed count=200") {
		t.Errorf("merged junit (%v):\n%s", err, data)
	}
	if r := runCLI(t, "merge", "-plan", file, "-var", "host=http://127.0.0.1:1", segs[0], segs[0]); r.code != exitRuntime {
		t.Errorf("merging a segment twice: exit %d, want 1", r.code)
	}
}

func TestMergeBadInput(t *testing.T) {
	file := writePlan(t, "/ok", iterations200, "")
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "x.json")
	os.WriteFile(notJSON, []byte("not a summary"), 0o644)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"merge"}, exitUsage, "needs -plan FILE"},
		{[]string{"merge", "-plan", file}, exitUsage, "needs -plan FILE"},
		{[]string{"merge", "-plan", file, "-var", "host=http://127.0.0.1:1", notJSON}, exitRuntime, "not a loadplan segment summary"},
		{[]string{"merge", "-plan", file, "-var", "host=http://127.0.0.1:1", filepath.Join(dir, "missing.json")}, exitRuntime, "missing.json"},
		{[]string{"merge", "-plan", filepath.Join(dir, "nope.hcl"), notJSON}, exitUsage, "nope.hcl"},
	}
	for _, c := range cases {
		r := runCLI(t, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, want %d with %q\n%s", c.args, r.code, c.code, c.want, r.stderr)
		}
	}
}
