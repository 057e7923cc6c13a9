package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestReadVersion(t *testing.T) {
	stamped := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/loadplan/loadplan", Version: "v0.0.0-20261201190000-8d285fcc118b+dirty"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "8d285fcc118b777bc250b0ba861dbdebfa630842"},
			{Key: "vcs.time", Value: "2026-12-01T19:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	cases := []struct {
		name                 string
		ldV, ldC, ldD, ldT   string
		bi                   *debug.BuildInfo
		ok                   bool
		version, commit, day string
		modified             string // "", "true", "false"
	}{
		{name: "no build info", ldV: "dev", version: "dev"},
		{name: "checkout build", ldV: "dev", bi: stamped, ok: true,
			version: "v0.0.0-20261201190000-8d285fcc118b+dirty", commit: "8d285fcc118b777bc250b0ba861dbdebfa630842",
			day: "2026-12-01T19:00:00Z", modified: "true"},
		{name: "go install of a tag", ldV: "dev", ok: true,
			bi:      &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}},
			version: "v1.2.3"},
		{name: "devel without vcs", ldV: "dev", ok: true,
			bi:      &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			version: "dev"},
		{name: "release ldflags win", ldV: "1.2.3", ldC: "abc", ldD: "2026-01-02T03:04:05Z", ldT: "clean", bi: stamped, ok: true,
			version: "1.2.3", commit: "abc", day: "2026-01-02T03:04:05Z", modified: "false"},
		{name: "ldflags without tree state take vcs.modified", ldV: "1.2.3", ldC: "abc", bi: stamped, ok: true,
			version: "1.2.3", commit: "abc", day: "2026-12-01T19:00:00Z", modified: "true"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := readVersion(c.ldV, c.ldC, c.ldD, c.ldT, c.bi, c.ok)
			mod := ""
			if v.Modified != nil {
				mod = map[bool]string{true: "true", false: "false"}[*v.Modified]
			}
			if v.Version != c.version || v.Commit != c.commit || v.Date != c.day || mod != c.modified {
				t.Errorf("got version=%q commit=%q date=%q modified=%q, want %q %q %q %q",
					v.Version, v.Commit, v.Date, mod, c.version, c.commit, c.day, c.modified)
			}
			if c.commit == "" && !strings.Contains(v.String(), "commit:   unknown") {
				t.Errorf("a build without a commit must say so:\n%s", v)
			}
		})
	}
}

func TestVersionVerbs(t *testing.T) {
	for _, verb := range []string{"version", "--version", "-version"} {
		var out, errb bytes.Buffer
		if code := dispatch([]string{verb, "-json"}, &out, &errb); code != exitOK {
			t.Fatalf("%s -json: exit %d, stderr %s", verb, code, errb.String())
		}
		var v buildVersion
		if err := json.Unmarshal(out.Bytes(), &v); err != nil || v.Version == "" || !strings.HasPrefix(v.Go, "go") {
			t.Errorf("%s -json printed %q (%v)", verb, out.String(), err)
		}
	}
	var out, errb bytes.Buffer
	if code := dispatch([]string{"version", "extra"}, &out, &errb); code != exitUsage {
		t.Errorf("version extra: exit %d, want %d", code, exitUsage)
	}
}

// TestVersionFromCheckout builds loadplan from a clean clone of this checkout's HEAD, as
// `go install ./cmd/loadplan` does, and checks that `loadplan version` shows the revision
// `git rev-parse HEAD` names and the dirty flag `git status` implies, then again with an
// uncommitted file. A clone, not this tree: Go stamps VCS information only where .git is a
// directory (a linked worktree has a .git file), and this tree may hold other work.
func TestVersionFromCheckout(t *testing.T) {
	if testing.Short() {
		t.Skip("builds loadplan twice")
	}
	clone := cloneHEAD(t)
	want := strings.TrimSpace(git(t, clone, "rev-parse", "HEAD"))

	for _, dirty := range []bool{false, true} {
		if dirty {
			if err := os.WriteFile(filepath.Join(clone, "uncommitted.txt"), []byte("x\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		porcelain := strings.TrimSpace(git(t, clone, "status", "--porcelain"))
		if (porcelain != "") != dirty {
			t.Fatalf("clone status %q, expected dirty=%v", porcelain, dirty)
		}
		bin := filepath.Join(t.TempDir(), "loadplan")
		// -buildvcs=true on the command line beats a GOFLAGS=-buildvcs=false in the environment.
		build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "./cmd/loadplan")
		build.Dir = clone
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		out, err := exec.Command(bin, "version", "-json").Output()
		if err != nil {
			t.Fatalf("loadplan version -json: %v", err)
		}
		var v buildVersion
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("%v in %s", err, out)
		}
		if v.Commit != want {
			t.Errorf("dirty=%v: commit %q, git rev-parse HEAD says %q", dirty, v.Commit, want)
		}
		if v.Modified == nil || *v.Modified != dirty {
			t.Errorf("dirty=%v: modified %v in %s", dirty, v.Modified, out)
		}
		text, err := exec.Command(bin, "version").Output()
		if err != nil || !strings.Contains(string(text), want) {
			t.Errorf("loadplan version does not name %s: %q (%v)", want, text, err)
		}
	}
}

// cloneHEAD clones the repository holding this package at its HEAD into a temporary directory
// (--shared: the objects are borrowed, not copied). Skips where there is no git checkout.
func cloneHEAD(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	root, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skip("not a git checkout: ", err)
	}
	head := strings.TrimSpace(git(t, ".", "rev-parse", "HEAD"))
	clone := filepath.Join(t.TempDir(), "src")
	git(t, ".", "clone", "-q", "--shared", "--no-checkout", strings.TrimSpace(string(root)), clone)
	git(t, clone, "-c", "advice.detachedHead=false", "checkout", "-q", head)
	return clone
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return string(out)
}
