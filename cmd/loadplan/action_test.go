package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

// actionFile is the part of action.yml the tests read.
type actionFile struct {
	Inputs map[string]struct {
		Required bool   `yaml:"required"`
		Default  string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Value string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string       `yaml:"using"`
		Steps []actionStep `yaml:"steps"`
	} `yaml:"runs"`
}

type actionStep struct {
	ID   string            `yaml:"id"`
	Name string            `yaml:"name"`
	If   string            `yaml:"if"`
	Uses string            `yaml:"uses"`
	With map[string]string `yaml:"with"`
	Env  map[string]string `yaml:"env"`
	Run  string            `yaml:"run"`
}

func readAction(t *testing.T) (actionFile, []byte) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a actionFile
	if err := yaml.Unmarshal(src, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return a, src
}

// TestActionInputs: every input a step references is declared, every declared input is used,
// scripts never paste an expression (inputs reach them through env), and used actions are
// pinned to a major version.
func TestActionInputs(t *testing.T) {
	a, src := readAction(t)
	if a.Runs.Using != "composite" {
		t.Fatalf("runs.using = %q, want composite", a.Runs.Using)
	}
	used := map[string]bool{}
	ref := regexp.MustCompile(`inputs\.([A-Za-z0-9_-]+)`)
	// Only the runs section: the header comment and descriptions may mention inputs in prose.
	runs := src[bytes.Index(src, []byte("\nruns:")):]
	for _, m := range ref.FindAllSubmatch(runs, -1) {
		name := string(m[1])
		used[name] = true
		if _, ok := a.Inputs[name]; !ok {
			t.Errorf("a step uses inputs.%s, which action.yml does not declare", name)
		}
	}
	for name := range a.Inputs {
		if !used[name] {
			t.Errorf("input %q is declared but no step uses it", name)
		}
	}
	if !a.Inputs["plan"].Required {
		t.Error("input plan must be required")
	}
	pinned := regexp.MustCompile(`^actions/[a-z-]+@v[0-9]+$`)
	var uploads int
	for _, s := range a.Runs.Steps {
		if strings.Contains(s.Run, "${{") {
			t.Errorf("step %q pastes an expression into its script; pass it through env", s.Name)
		}
		if s.Uses != "" && !pinned.MatchString(s.Uses) {
			t.Errorf("step %q uses %q; pin a major version (actions/x@vN)", s.Name, s.Uses)
		}
		if strings.HasPrefix(s.Uses, "actions/upload-artifact@") {
			uploads++
			if !strings.HasPrefix(s.If, "always()") || s.With["path"] != "${{ steps.apply.outputs.files }}" {
				t.Errorf("upload step: if %q path %q; it must run whatever the verdict and upload the apply step's files", s.If, s.With["path"])
			}
		}
	}
	if uploads != 1 {
		t.Errorf("%d upload-artifact steps, want 1", uploads)
	}
	if got := a.Outputs["exit-code"].Value; got != "${{ steps.apply.outputs.exit-code }}" {
		t.Errorf("outputs.exit-code = %q", got)
	}
}

// TestActionApplyStep runs the apply step's script with bash as the runner would, with a stand-in
// loadplan that records its arguments and exits 99: the inputs must arrive as loadplan flags, the
// exit code must pass through, and the artifact list must name the three files.
func TestActionApplyStep(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not installed")
	}
	a, _ := readAction(t)
	i := slices.IndexFunc(a.Runs.Steps, func(s actionStep) bool { return s.ID == "apply" })
	if i < 0 {
		t.Fatal("action.yml has no step with id apply")
	}
	step := a.Runs.Steps[i]

	inputs := map[string]string{}
	for name, in := range a.Inputs {
		inputs[name] = in.Default
	}
	inputs["plan"] = "plans/smoke.hcl"
	inputs["vars"] = "host=http://127.0.0.1:8000\ntoken=it's $(not) a command\n"
	inputs["args"] = "--duration 1m --scenario browse"
	inputs["junit"] = "out/junit.xml"

	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	work := filepath.Join(dir, "work")
	for _, d := range []string{bin, work} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	argv := filepath.Join(dir, "argv")
	fake := "#!/usr/bin/env bash\nprintf '%s\\n' \"$@\" > " + argv + "\nexit 99\n"
	if err := os.WriteFile(filepath.Join(bin, "loadplan"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	ghOut := filepath.Join(dir, "github_output")

	expr := regexp.MustCompile(`^\$\{\{ inputs\.([A-Za-z0-9_-]+) \}\}$`)
	env := []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "GITHUB_OUTPUT=" + ghOut}
	for k, v := range step.Env {
		m := expr.FindStringSubmatch(v)
		if m == nil {
			t.Fatalf("apply step env %s = %q: expected ${{ inputs.NAME }}", k, v)
		}
		env = append(env, k+"="+inputs[m[1]])
	}
	// bash -e {0} is how the runner starts a `shell: bash` step.
	script := filepath.Join(dir, "step.sh")
	if err := os.WriteFile(script, []byte(step.Run), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", script)
	cmd.Dir = work
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 99 {
		t.Fatalf("step exit: %v, want loadplan's 99\n%s", err, out)
	}

	got, err := os.ReadFile(argv)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"apply",
		"-var", "host=http://127.0.0.1:8000", "-var", "token=it's $(not) a command",
		"--summary-export", "loadplan-summary.json", "--junit", "out/junit.xml", "--report", "loadplan-report.html",
		"--duration", "1m", "--scenario", "browse", "plans/smoke.hcl"}
	if g := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n"); !slices.Equal(g, want) {
		t.Errorf("loadplan ran with\n  %q\nwant\n  %q", g, want)
	}
	if fi, err := os.Stat(filepath.Join(work, "out")); err != nil || !fi.IsDir() {
		t.Errorf("the junit file's folder was not made: %v", err)
	}
	gh, err := os.ReadFile(ghOut)
	if err != nil {
		t.Fatal(err)
	}
	wantOut := "exit-code=99\nfiles<<LOADPLAN_FILES_EOF\n" +
		filepath.Join(work, "loadplan-summary.json") + "\n" + filepath.Join(work, "out/junit.xml") + "\n" +
		filepath.Join(work, "loadplan-report.html") + "\nLOADPLAN_FILES_EOF\n"
	if string(gh) != wantOut {
		t.Errorf("GITHUB_OUTPUT:\n%s\nwant:\n%s", gh, wantOut)
	}
}

// TestActionFlagsExist: the flags the action passes are apply's flags.
func TestActionFlagsExist(t *testing.T) {
	var out, errb bytes.Buffer
	dispatch([]string{"apply", "-h"}, &out, &errb)
	help := out.String() + errb.String()
	has := func(f string) bool { // "  -junit FILE", "  --junit FILE" or "  -e, --var value"
		for _, name := range []string{f, "-" + f} {
			for _, pre := range []string{"  ", ", "} {
				if strings.Contains(help, pre+name+" ") || strings.Contains(help, pre+name+"\n") {
					return true
				}
			}
		}
		return false
	}
	for _, f := range []string{"-var", "-summary-export", "-junit", "-report"} {
		if !has(f) {
			t.Errorf("action.yml passes %s, which `loadplan apply -h` does not list", f)
		}
	}
}

// TestReadmeActionSnippet: the README's workflow snippet gives the action only inputs it
// declares, and every required one.
func TestReadmeActionSnippet(t *testing.T) {
	a, _ := readAction(t)
	found := 0
	for _, block := range readmeBlocks(t, "yaml") {
		var wf struct {
			Jobs map[string]struct {
				Steps []actionStep `yaml:"steps"`
			} `yaml:"jobs"`
		}
		if err := yaml.Unmarshal([]byte(block), &wf); err != nil || wf.Jobs == nil {
			continue // another YAML example (pre-commit, compose)
		}
		for _, job := range wf.Jobs {
			for _, s := range job.Steps {
				if !strings.HasPrefix(s.Uses, "loadplan/loadplan@") {
					continue
				}
				found++
				for k := range s.With {
					if _, ok := a.Inputs[k]; !ok {
						t.Errorf("README snippet passes %q, which action.yml does not declare", k)
					}
				}
				for name, in := range a.Inputs {
					if _, ok := s.With[name]; in.Required && !ok {
						t.Errorf("README snippet omits the required input %q", name)
					}
				}
			}
		}
	}
	if found == 0 {
		t.Error("README has no workflow snippet using loadplan/loadplan")
	}
}
