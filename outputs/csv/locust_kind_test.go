package csv

import (
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/plan"
)

// TestRawFalseWritesOnlyLocustFiles: raw = false writes the four Locust files under a prefix
// (Locust's --csv PREFIX) or, in a folder, under a timestamped one, and no raw file; their
// request counts are still the server's.
func TestRawFalseWritesOnlyLocustFiles(t *testing.T) {
	ls := &locustServer{}
	srv := httptest.NewServer(ls)
	defer srv.Close()
	for _, tc := range []struct{ name, path string }{{"prefix", "run"}, {"folder", "out/"}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			before := ls.items.Load() + ls.fail.Load() + ls.plain.Load()
			path := filepath.Join(dir, tc.path)
			if strings.HasSuffix(tc.path, "/") {
				path += "/" // Join drops it; it makes the path a folder
			}
			files, prefix := runLocust(t, srv, 20, Config{Path: path, NoRaw: true})
			entries, err := os.ReadDir(filepath.Dir(prefix))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			base := filepath.Base(prefix)
			want := []string{base + "_exceptions.csv", base + "_failures.csv", base + "_stats.csv", base + "_stats_history.csv"}
			if !slices.Equal(names, want) {
				t.Errorf("files %q, want only %q", names, want)
			}
			if tc.name == "prefix" && prefix != filepath.Join(dir, "run") {
				t.Errorf("prefix %q, want %q", prefix, filepath.Join(dir, "run"))
			}
			agg := files["_stats.csv"][len(files["_stats.csv"])-1]
			if got := ls.items.Load() + ls.fail.Load() + ls.plain.Load() - before; agg[1] != "Aggregated" || agg[2] != "60" || got != 60 {
				t.Errorf("Aggregated %q; server got %d requests, want 60 in both", agg, got)
			}
		})
	}
}

// TestRawValidated: raw is a bool (a string is an error at its line and column), raw = false
// with aggregated = false writes nothing and is an error at raw, and --out csv=locust:PREFIX is
// raw = false.
func TestRawValidated(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.hcl")
	src := `target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "health" { path = "/" }
}

output "csv" {
  raw = "no"
}

output "csv" {
  path       = "b/"
  raw        = false
  aggregated = false
}
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, diags := plan.LoadPlan([]string{path}, plan.Options{Outputs: []*plan.OutputSchema{Kind.Schema}})
	var got []string
	for _, d := range diags {
		if d.Subject == nil {
			t.Fatalf("diagnostic without a position: %v", d)
		}
		got = append(got, d.Summary+" @"+strconv.Itoa(d.Subject.Start.Line)+":"+strconv.Itoa(d.Subject.Start.Column))
	}
	if len(got) != 2 || !strings.HasSuffix(got[0], "@10:9") || got[1] != "CSV output writes no file @15:16" {
		t.Errorf("diagnostics %q, want a type error at 10:9 and \"CSV output writes no file\" at 15:16", got)
	}

	var b plan.OutputBlock
	if err := Kind.Flag("locust:results/run", &b); err != nil {
		t.Fatal(err)
	}
	if got := ConfigOf(&b); got != (Config{Path: "results/run", Aggregated: true, NoRaw: true}) {
		t.Errorf("--out csv=locust:results/run gives %+v", got)
	}
	if n := Kind.Files(&b); n != 4 {
		t.Errorf("--out csv=locust:... writes %d files, want 4", n)
	}
	if _, err := New(Config{Path: filepath.Join(dir, "x"), NoRaw: true}, outputs.Options{}); err != nil {
		t.Error(err)
	}
}

// TestPyFloat holds appendPyFloat to Python's repr(float), read from python3 itself.
func TestPyFloat(t *testing.T) {
	vals := []float64{0, 1, 15, 0.1, 0.5, 2.5, 1.0 / 3, 10.625, 123456.789, 1e-4, 1.5e-5, 0.00012345, 1e15, 1e16, 1.5e16, 123456789012345678, 6390.703928688436, 0.023755}
	var want []string
	for _, v := range vals {
		want = append(want, string(appendPyFloat(nil, v)))
	}
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		if py, err = exec.LookPath("python3"); err != nil {
			t.Fatalf("python3 is needed to compare with Python's repr: %v", err)
		}
	}
	args := []string{"-c", "import sys\nfor a in sys.argv[1:]: print(repr(float(a)))"}
	for _, v := range vals {
		args = append(args, string(appendPyFloat(nil, v)))
	}
	out, err := exec.Command(py, args...).Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Fields(string(out))
	if !slices.Equal(got, want) {
		t.Errorf("Python repr %q\n        ours %q", got, want)
	}
}
