package outputs

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCreateResultFileNamesAndNeverOverwrites(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "results") + string(filepath.Separator)
	at := time.Date(2026, 11, 22, 10, 15, 0, 0, time.UTC)
	opts := Options{PlanName: "stress", SegmentName: "2/4", Now: func() time.Time { return at }}
	var paths []string
	for i := 0; i < 3; i++ { // three workers sharing the folder in the same second
		f, path, err := CreateResultFile(dir, ".csv", opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString("run " + path); err != nil {
			t.Fatal(err)
		}
		f.Close()
		paths = append(paths, path)
	}
	want := []string{"stress-2of4-20261122-101500.csv", "stress-2of4-20261122-101500-2.csv", "stress-2of4-20261122-101500-3.csv"}
	for i, p := range paths {
		if filepath.Base(p) != want[i] {
			t.Errorf("file %d: %s, want %s", i, filepath.Base(p), want[i])
		}
		b, err := os.ReadFile(p)
		if err != nil || string(b) != "run "+p {
			t.Errorf("%s holds %q (%v): a later run overwrote it", p, b, err)
		}
	}

	file := filepath.Join(t.TempDir(), "deep", "run.jsonl.gz")
	f, path, err := CreateResultFile(file, ".jsonl", Options{})
	if err != nil || path != file {
		t.Fatalf("file path: %s, %v", path, err)
	}
	f.Close()
}

func TestCreateResultFileUnwritable(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// A folder below a regular file cannot be created.
	if _, _, err := CreateResultFile(filepath.Join(blocker, "results")+"/", ".csv", Options{}); err == nil {
		t.Fatal("no error for a folder below a file")
	}
}

func TestIsFolder(t *testing.T) {
	dir := t.TempDir()
	for spec, want := range map[string]bool{
		"results/": true, "results": true, dir: true, "run.csv": false, "out/run.csv.gz": false,
		"/dev/full": false, "/dev/null": false,
	} {
		if got := IsFolder(spec); got != want {
			t.Errorf("IsFolder(%q) = %v, want %v", spec, got, want)
		}
	}
}
