package plan

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestFileReadReportsEveryFileRead: Options.FileRead hears of each file file() read, by its path
// resolved against the plan's folder, so that `loadplan deploy` ships exactly those.
func TestFileReadReportsEveryFileRead(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bodies"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"bodies/a.json": `{"a":1}`, "token.txt": "t"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src := `target "api" {
  base_url = "http://127.0.0.1:1"
  headers  = { X = file("token.txt") }
}
scenario "s" {
  target = target.api
  http "a" {
    method = "POST"
    path   = "/"
    body   = file("bodies/a.json")
  }
}
load {
  vus      = 1
  duration = "1s"
}
`
	planFile := filepath.Join(dir, "p.hcl")
	if err := os.WriteFile(planFile, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var read []string
	_, diags := LoadPlan([]string{planFile}, Options{FileRead: func(p string) { read = append(read, p) }})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	slices.Sort(read)
	read = slices.Compact(read)
	want := []string{filepath.Join(dir, "bodies", "a.json"), filepath.Join(dir, "token.txt")}
	if !slices.Equal(read, want) {
		t.Errorf("FileRead heard %v, want %v", read, want)
	}
}
