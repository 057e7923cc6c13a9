package summary

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestExportCarriesTheViewOnOneLine: the export stays k6's indented layout, with the view under
// "loadplan" on one line (its columns would take a line per number indented), and parses.
func TestExportCarriesTheViewOnOneLine(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	r := &Report{Start: start, End: start.Add(3 * time.Second), Series: delta(start, 3, 10),
		View: map[string]any{"timeline": map[string]any{"rps": []float64{1, 2, 3}}, "name": "a<b"}}
	var b bytes.Buffer
	if err := r.WriteExport(&b); err != nil {
		t.Fatal(err)
	}
	var ex struct {
		Metrics  map[string]map[string]any
		Loadplan struct {
			Name     string
			Timeline struct{ RPS []float64 }
		}
	}
	if err := json.Unmarshal(b.Bytes(), &ex); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if ex.Metrics["http_reqs"]["count"] != 3.0 || ex.Loadplan.Name != "a<b" || len(ex.Loadplan.Timeline.RPS) != 3 {
		t.Fatalf("export %+v", ex)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if n := len(lines); !strings.HasPrefix(lines[n-2], `  "loadplan": {`) || lines[n-1] != "}" || !strings.Contains(lines[1], `"metrics"`) {
		t.Fatalf("the view is not the last key, on one line, after k6's indented layout:\n%s", b.String())
	}
	r.View = nil
	b.Reset()
	if err := r.WriteExport(&b); err != nil || strings.Contains(b.String(), "loadplan") {
		t.Fatalf("without a view the export has a loadplan key: %v\n%s", err, b.String())
	}
}
