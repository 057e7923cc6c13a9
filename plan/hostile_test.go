//go:build unix

package plan

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Hostile inputs that cannot be committed as files under testdata/invalid — devices, FIFOs,
// folders, sparse files past a size bound, 100,000 nested parentheses — are made here in a temporary
// folder. Each must end, quickly and without a crash, in the diagnostics of testdata/hostile/NAME.golden
// (the temporary folder written as $TMP; -update rewrites them). No case measures time: a hang or a
// crash fails the run through go test -timeout.

// hostileCase builds its files in dir and returns the plan files to load and the options.
type hostileCase struct {
	name  string
	build func(t *testing.T, dir string) ([]string, Options)
}

const hostileTarget = `target "api" {
  base_url = "http://127.0.0.1:8000"
}
`

// feederPlan writes a plan that reads csv through a feeder and returns its path.
func feederPlan(t *testing.T, dir, csv string) []string {
	t.Helper()
	return []string{writeHostile(t, dir, "plan.hcl", hostileTarget+`
data "users" { csv = "`+csv+`" }

scenario "rest" {
  http "login" { path = "/api/login/${data.users.name}" }
}
`)}
}

func writeHostile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// sparse makes a file of size bytes that takes no disk space: cheap to create past any bound.
func sparse(t *testing.T, path string, size int64) string {
	t.Helper()
	if err := os.WriteFile(path, []byte("name\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
	return path
}

func fifo(t *testing.T, path string) string {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	return path
}

var hostileCases = []hostileCase{
	{"plan_dev_zero", func(t *testing.T, dir string) ([]string, Options) {
		return []string{"/dev/zero"}, Options{}
	}},
	{"plan_fifo", func(t *testing.T, dir string) ([]string, Options) {
		return []string{fifo(t, filepath.Join(dir, "plan.hcl"))}, Options{} // opening it would block forever
	}},
	{"plan_directory", func(t *testing.T, dir string) ([]string, Options) {
		return []string{dir}, Options{}
	}},
	{"plan_too_large", func(t *testing.T, dir string) ([]string, Options) {
		return []string{sparse(t, filepath.Join(dir, "plan.hcl"), maxPlanFileSize+1)}, Options{}
	}},
	{"var_file_dev_zero", func(t *testing.T, dir string) ([]string, Options) {
		p := writeHostile(t, dir, "plan.hcl", hostileTarget+`
scenario "rest" {
  http "health" { path = "/api/health" }
}
`)
		return []string{p}, Options{VarFiles: []string{"/dev/zero"}}
	}},
	{"feeder_fifo", func(t *testing.T, dir string) ([]string, Options) {
		fifo(t, filepath.Join(dir, "users.csv"))
		return feederPlan(t, dir, "users.csv"), Options{}
	}},
	{"feeder_directory", func(t *testing.T, dir string) ([]string, Options) {
		if err := os.Mkdir(filepath.Join(dir, "users.csv"), 0o755); err != nil {
			t.Fatal(err)
		}
		return feederPlan(t, dir, "users.csv"), Options{}
	}},
	{"feeder_too_large", func(t *testing.T, dir string) ([]string, Options) {
		sparse(t, filepath.Join(dir, "users.csv"), maxFileSize+1)
		return feederPlan(t, dir, "users.csv"), Options{}
	}},
	{"file_function_hostile", func(t *testing.T, dir string) ([]string, Options) {
		sparse(t, filepath.Join(dir, "big.bin"), maxFileSize+1)
		fifo(t, filepath.Join(dir, "pipe"))
		return []string{writeHostile(t, dir, "plan.hcl", hostileTarget+`
locals {
  zero = file("/dev/zero")
  big  = file("big.bin")
  pipe = file("pipe")
}

scenario "rest" {
  http "health" { path = "/api/health" }
}
`)}, Options{}
	}},
	{"nesting_100k_parentheses", func(t *testing.T, dir string) ([]string, Options) {
		deep := strings.Repeat("(", 100_000) + "1" + strings.Repeat(")", 100_000)
		return []string{writeHostile(t, dir, "plan.hcl", hostileTarget+"\nlocals {\n  n = "+deep+"\n}\n")}, Options{}
	}},
	{"nesting_100k_mixed", func(t *testing.T, dir string) ([]string, Options) {
		deep := strings.Repeat(`{a = [("${`, 25_000) + "1" + strings.Repeat(`}")]}`, 25_000)
		return []string{writeHostile(t, dir, "plan.hcl", hostileTarget+"\nlocals {\n  n = "+deep+"\n}\n")}, Options{}
	}},
	{"nesting_100k_unclosed", func(t *testing.T, dir string) ([]string, Options) {
		return []string{writeHostile(t, dir, "plan.hcl", hostileTarget+"\nlocals {\n  n = "+strings.Repeat("[", 100_000)+"\n")}, Options{}
	}},
}

func TestHostileFiles(t *testing.T) {
	for _, c := range hostileCases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			paths, opts := c.build(t, dir)
			p, diags := LoadPlan(paths, opts)
			if p != nil || !diags.HasErrors() {
				t.Fatalf("a hostile plan loaded: %v", diags)
			}
			for _, d := range diags {
				if d.Subject == nil && !strings.HasPrefix(c.name, "var_file") {
					t.Errorf("diagnostic without a position: %s: %s", d.Summary, d.Detail)
				}
			}
			got := strings.ReplaceAll(renderDiags(diags), filepath.ToSlash(dir), "$TMP")
			compareGolden(t, filepath.Join("testdata", "hostile", c.name+".golden"), got)
		})
	}
}

// updating reports whether -update was given. The flag is registered by golden_test.go, which is
// in package plan_test of the same test binary.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// compareGolden compares got with the golden file, or rewrites it under -update.
func compareGolden(t *testing.T, golden, got string) {
	t.Helper()
	if updating() {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("diagnostics differ from %s\n--- got\n%s--- want\n%s", golden, got, want)
	}
}

// TestFeederCellBound lowers the cell bound so that a small file passes it: a CSV of tiny cells
// is where memory outgrows the file's size.
func TestFeederCellBound(t *testing.T) {
	saved := maxFeederCells
	maxFeederCells = 10
	defer func() { maxFeederCells = saved }()
	dir := t.TempDir()
	writeHostile(t, dir, "users.csv", "name,pass\na,b\nc,d\ne,f\ng,h\ni,j\n") // 12 cells
	_, diags := LoadPlan(feederPlan(t, dir, "users.csv"), Options{})
	got := strings.ReplaceAll(renderDiags(diags), filepath.ToSlash(dir), "$TMP")
	compareGolden(t, filepath.Join("testdata", "hostile", "feeder_too_many_cells.golden"), got)

	writeHostile(t, dir, "users.csv", "name,pass\na,b\nc,d\ne,f\ng,h\n") // 10 cells: the bound itself
	if _, diags := LoadPlan(feederPlan(t, dir, "users.csv"), Options{}); diags.HasErrors() {
		t.Errorf("10 cells are within a bound of 10: %v", diags)
	}
}

// TestReadBoundedGrowingFile reads a file whose size, when checked, is within the bound but whose
// content is not: /proc files stat as 0 bytes, as a file that grows after the check would.
func TestReadBoundedGrowingFile(t *testing.T) {
	const path = "/proc/self/status"
	st, err := os.Stat(path)
	if err != nil || st.Size() != 0 {
		t.Skipf("%s does not stat as an empty file here", path)
	}
	_, err = readBounded(path, 16)
	if !errors.Is(err, errTooLarge) || !strings.Contains(err.Error(), "grew past 16 bytes") {
		t.Fatalf("readBounded of a file larger than it stated: %v", err)
	}
	b, err := readBounded(path, 1<<20)
	if err != nil || len(b) <= 16 {
		t.Fatalf("within the bound: %d bytes, %v", len(b), err)
	}
}
