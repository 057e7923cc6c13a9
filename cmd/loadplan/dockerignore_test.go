package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dockerIgnore is a .dockerignore read with Docker's rules (moby/patternmatcher): patterns are
// cleaned and anchored at the context root, `*` and `?` stay within a path element, `**` spans
// any number of elements, a `!` line re-includes, the last matching line wins, and a path is
// excluded when it or one of its parent folders matches.
type dockerIgnore []struct {
	re      *regexp.Regexp
	exclude bool
	line    string
}

func readDockerIgnore(t *testing.T, file string) dockerIgnore {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var d dockerIgnore
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p, exclude := line, true
		if strings.HasPrefix(p, "!") {
			p, exclude = strings.TrimSpace(p[1:]), false
		}
		p = strings.TrimPrefix(path.Clean(filepath.ToSlash(p)), "/")
		if strings.ContainsAny(p, `[\`) {
			t.Fatalf(".dockerignore %q: character classes and escapes are not understood by this test", line)
		}
		var re strings.Builder
		re.WriteString("^")
		for i := 0; i < len(p); i++ {
			switch {
			case strings.HasPrefix(p[i:], "**/"):
				re.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(p[i:], "**"):
				re.WriteString(".*")
				i++
			case p[i] == '*':
				re.WriteString("[^/]*")
			case p[i] == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(p[i : i+1]))
			}
		}
		re.WriteString("$")
		d = append(d, struct {
			re      *regexp.Regexp
			exclude bool
			line    string
		}{regexp.MustCompile(re.String()), exclude, line})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return d
}

// excluded reports whether rel (slash-separated, relative to the context) is left out, and by
// which line.
func (d dockerIgnore) excluded(rel string) (bool, string) {
	out, by := false, ""
	for _, p := range d {
		for q := rel; q != "." && q != ""; q = path.Dir(q) {
			if p.re.MatchString(q) {
				out, by = p.exclude, p.line
				break
			}
		}
	}
	return out, by
}

// TestDockerIgnoreKeepsBuildInputs: everything the Dockerfile's COPY lines take from the context
// survives .dockerignore: go.mod and go.sum, every Go file and embedded asset of every package
// `go build ./cmd/loadplan` compiles for linux with CGO_ENABLED=0 (for `COPY . .`), and every
// tracked file of a copied folder (plans). And what must stay out does.
func TestDockerIgnoreKeepsBuildInputs(t *testing.T) {
	root := filepath.Join("..", "..")
	ign := readDockerIgnore(t, filepath.Join(root, ".dockerignore"))
	absRoot, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}

	need := map[string]string{} // path → why
	for _, src := range dockerfileCopySources(t, filepath.Join(root, "Dockerfile")) {
		switch src {
		case ".":
			for _, f := range buildInputs(t, absRoot) {
				need[f] = "COPY . . (the build of cmd/loadplan)"
			}
		default:
			need[src] = "COPY " + src
			if fi, err := os.Stat(filepath.Join(root, src)); err == nil && fi.IsDir() {
				cmd := exec.Command("git", "ls-files", "--", src)
				cmd.Dir = root
				out, err := cmd.Output()
				if err != nil {
					t.Skipf("git ls-files: %v", err)
				}
				for _, f := range strings.Fields(string(out)) {
					need[f] = "COPY " + src
				}
			}
		}
	}
	if len(need) < 20 {
		t.Fatalf("only %d build inputs found; the Dockerfile parse or go list went wrong: %v", len(need), need)
	}
	for f, why := range need {
		if out, by := ign.excluded(f); out {
			t.Errorf("%s is needed (%s) but .dockerignore line %q excludes it", f, why, by)
		}
	}
	for _, f := range []string{".git/HEAD", "results/run.csv", "bin/loadplan", "dist/checksums.txt",
		"scripts/browser/node_modules/x/index.js", "plan/testdata/ok.hcl", "loadplan"} {
		if out, _ := ign.excluded(f); !out {
			t.Errorf("%s should be left out of the build context", f)
		}
	}
}

// dockerfileCopySources returns the context paths of the Dockerfile's COPY and ADD lines
// (those with --from copy between stages and are skipped).
func dockerfileCopySources(t *testing.T, file string) []string {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(src), "\\\n", " ")
	var out []string
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || (!strings.EqualFold(f[0], "COPY") && !strings.EqualFold(f[0], "ADD")) {
			continue
		}
		args, fromStage := []string{}, false
		for _, a := range f[1:] {
			if strings.HasPrefix(a, "--from=") {
				fromStage = true
			}
			if !strings.HasPrefix(a, "--") {
				args = append(args, a)
			}
		}
		if fromStage {
			continue
		}
		for _, s := range args[:len(args)-1] {
			out = append(out, strings.TrimPrefix(path.Clean(s), "/"))
		}
	}
	if len(out) == 0 {
		t.Fatal("no COPY from the build context in the Dockerfile")
	}
	return out
}

// buildInputs lists, relative to root, go.mod, go.sum and the files of this module that
// `go build ./cmd/loadplan` reads for linux without cgo (as the Dockerfile builds).
func buildInputs(t *testing.T, root string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Dir,GoFiles,EmbedFiles,Module", "./cmd/loadplan")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	files := []string{"go.mod", "go.sum"}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p struct {
			Dir                 string
			GoFiles, EmbedFiles []string
			Module              *struct{ Main bool }
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if p.Module == nil || !p.Module.Main {
			continue // the standard library and modules go mod download fetches
		}
		rel, err := filepath.Rel(root, p.Dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range append(p.GoFiles, p.EmbedFiles...) {
			files = append(files, filepath.ToSlash(filepath.Join(rel, f)))
		}
	}
	return files
}
