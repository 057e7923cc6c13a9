package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/loadplan/loadplan/internal/testkit"
)

// TestCompletionScripts: each shell's script is syntactically valid for that shell (bash -n; zsh
// and fish only where installed), and an unknown shell is a usage error.
func TestCompletionScripts(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		r := runCLI(t, "completion", sh)
		if r.code != exitOK || !strings.Contains(r.stdout, "loadplan __complete") {
			t.Fatalf("completion %s: exit %d\n%s", sh, r.code, r.stdout)
		}
		path, err := exec.LookPath(sh)
		if err != nil {
			t.Logf("%s not installed: syntax not checked", sh)
			continue
		}
		script := filepath.Join(t.TempDir(), "loadplan."+sh)
		writeFile(t, script, r.stdout)
		if out, err := exec.Command(path, "-n", script).CombinedOutput(); err != nil {
			t.Errorf("%s -n: %v\n%s", sh, err, out)
		}
	}
	if r := runCLI(t, "completion", "tcsh"); r.code != exitUsage {
		t.Errorf("completion tcsh: exit %d, want 2", r.code)
	}
}

// TestCompletionQueries asks the binary what the scripts ask: verbs, a verb's flags (short ones
// too), the scenario names of the plan on the command line, plan files and folders.
func TestCompletionQueries(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "load.hcl"), k6Plan+"scenario \"browse\" {\n  target = target.api\n  http \"home\" {\n    path = \"/\"\n  }\n}\n")
	writeFile(t, filepath.Join(dir, "notes.txt"), "x")
	if err := os.Mkdir(filepath.Join(dir, "lplans"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		words []string
		want  []string
	}{
		{[]string{"ap"}, []string{"apply"}},
		{[]string{""}, verbs},
		{[]string{"apply", "--sc"}, []string{"--scenario"}},
		{[]string{"apply", "--http"}, []string{"--http-debug"}},
		{[]string{"apply", "--summary-t"}, []string{"--summary-trend-stats"}},
		{[]string{"plan", "-u"}, []string{"-u"}},
		{[]string{"validate", "--only"}, []string{"--only-plans"}},
		{[]string{"apply", "load.hcl", "--scenario", ""}, []string{"rest", "browse"}},
		{[]string{"apply", "-u", "3", "load.hcl", "--scenario", "b"}, []string{"browse"}},
		{[]string{"apply", "l"}, []string{"load.hcl", "lplans/"}},
		{[]string{"completion", "z"}, []string{"zsh"}},
	}
	for _, c := range cases {
		r := runInDir(t, dir, nil, append([]string{"__complete"}, c.words...)...)
		got := strings.Fields(r.stdout)
		if r.code != exitOK || !slices.Equal(got, c.want) {
			t.Errorf("__complete %q: exit %d, got %q, want %q", c.words, r.code, got, c.want)
		}
	}
	// The bash script end to end: COMP_WORDS as bash sets them, COMPREPLY as it reads them.
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	script := runCLI(t, "completion", "bash").stdout + `
COMP_WORDS=(loadplan apply load.hcl --scenario br); COMP_CWORD=4; _loadplan; echo "${COMPREPLY[*]}"
`
	cmd := exec.Command(bash, "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(testkit.Binary(t))+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "browse" {
		t.Errorf("bash completion of --scenario br: %v %q", err, out)
	}
}

// TestCompletionKnowsEveryVerb holds the completed verbs to the usage text: a verb added to
// dispatch and its usage line is completed too.
func TestCompletionKnowsEveryVerb(t *testing.T) {
	known := map[string]bool{}
	for _, v := range verbs {
		known[v] = true
	}
	for _, line := range strings.Split(usage, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "loadplan" && f[1] != "—" && !known[f[1]] {
			t.Errorf("verb %q is in the usage but not completed", f[1])
		}
	}
}
