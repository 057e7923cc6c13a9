package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

// goreleaserVersion is the goreleaser the release-config tests and `make release-snapshot`
// are written against (v2.18 needs Go 1.27).
const goreleaserVersion = "v2.17.0"

// goreleaserConfig is the part of .goreleaser.yaml the tests read.
type goreleaserConfig struct {
	Version int `yaml:"version"`
	Builds  []struct {
		ID      string   `yaml:"id"`
		Main    string   `yaml:"main"`
		Binary  string   `yaml:"binary"`
		Env     []string `yaml:"env"`
		Flags   []string `yaml:"flags"`
		Ldflags []string `yaml:"ldflags"`
		Goos    []string `yaml:"goos"`
		Goarch  []string `yaml:"goarch"`
	} `yaml:"builds"`
	Archives []struct {
		IDs             []string `yaml:"ids"`
		Formats         []string `yaml:"formats"`
		FormatOverrides []struct {
			Goos    string   `yaml:"goos"`
			Formats []string `yaml:"formats"`
		} `yaml:"format_overrides"`
	} `yaml:"archives"`
	Checksum struct {
		NameTemplate string `yaml:"name_template"`
		Algorithm    string `yaml:"algorithm"`
	} `yaml:"checksum"`
	DockersV2 []struct {
		IDs        []string `yaml:"ids"`
		Dockerfile string   `yaml:"dockerfile"`
		Images     []string `yaml:"images"`
		Platforms  []string `yaml:"platforms"`
		ExtraFiles []string `yaml:"extra_files"`
	} `yaml:"dockers_v2"`
}

// TestGoreleaserConfigFields reads .goreleaser.yaml without goreleaser: the six targets, a static
// trimmed build whose -X flags name variables that exist, zip on windows, checksums, and an
// image whose Dockerfile copies only what goreleaser puts in its build context.
func TestGoreleaserConfigFields(t *testing.T) {
	root := filepath.Join("..", "..")
	src, err := os.ReadFile(filepath.Join(root, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c goreleaserConfig
	if err := yaml.Unmarshal(src, &c); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	if c.Version != 2 {
		t.Errorf("version: %d, want 2", c.Version)
	}
	if len(c.Builds) != 1 {
		t.Fatalf("%d builds, want 1", len(c.Builds))
	}
	b := c.Builds[0]
	if b.Main != "./cmd/loadplan" || b.Binary != "loadplan" {
		t.Errorf("build main %q binary %q", b.Main, b.Binary)
	}
	if !slices.Contains(b.Env, "CGO_ENABLED=0") || !slices.Contains(b.Flags, "-trimpath") {
		t.Errorf("build env %v flags %v: want CGO_ENABLED=0 and -trimpath", b.Env, b.Flags)
	}
	slices.Sort(b.Goos)
	slices.Sort(b.Goarch)
	if !slices.Equal(b.Goos, []string{"darwin", "linux", "windows"}) || !slices.Equal(b.Goarch, []string{"amd64", "arm64"}) {
		t.Errorf("targets %v × %v", b.Goos, b.Goarch)
	}
	// -X on a variable that does not exist links silently and leaves `version` blind: the names
	// must be the ones version.go reads.
	set := map[string]bool{}
	for _, m := range regexp.MustCompile(`-X main\.(\w+)=`).FindAllStringSubmatch(strings.Join(b.Ldflags, " "), -1) {
		set[m[1]] = true
	}
	known := map[string]*string{"version": &version, "commit": &commit, "date": &date, "treeState": &treeState}
	for name := range set {
		if known[name] == nil {
			t.Errorf("ldflags set main.%s, which cmd/loadplan does not declare", name)
		}
	}
	for name := range known {
		if !set[name] {
			t.Errorf("ldflags do not set main.%s", name)
		}
	}

	if len(c.Archives) != 1 || !slices.Contains(c.Archives[0].IDs, b.ID) || !slices.Equal(c.Archives[0].Formats, []string{"tar.gz"}) {
		t.Errorf("archives %+v", c.Archives)
	} else if o := c.Archives[0].FormatOverrides; len(o) != 1 || o[0].Goos != "windows" || !slices.Equal(o[0].Formats, []string{"zip"}) {
		t.Errorf("archive format overrides %+v: want zip for windows", o)
	}
	if c.Checksum.NameTemplate == "" || c.Checksum.Algorithm != "sha256" {
		t.Errorf("checksum %+v", c.Checksum)
	}

	if len(c.DockersV2) != 1 {
		t.Fatalf("%d dockers_v2 images, want 1", len(c.DockersV2))
	}
	d := c.DockersV2[0]
	slices.Sort(d.Platforms)
	if !slices.Contains(d.IDs, b.ID) || len(d.Images) == 0 || !slices.Equal(d.Platforms, []string{"linux/amd64", "linux/arm64"}) {
		t.Errorf("image ids %v images %v platforms %v", d.IDs, d.Images, d.Platforms)
	}
	for _, f := range d.ExtraFiles {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("image extra file: %v", err)
		}
	}
	// goreleaser's image context holds $TARGETPLATFORM/<binary> and the extra files, nothing else.
	sources := dockerfileCopySources(t, filepath.Join(root, d.Dockerfile))
	for _, s := range sources {
		if s != "$TARGETPLATFORM/"+b.Binary && !slices.Contains(d.ExtraFiles, s) {
			t.Errorf("%s copies %s, which is not in goreleaser's build context", d.Dockerfile, s)
		}
	}
	if !slices.Contains(sources, "$TARGETPLATFORM/"+b.Binary) {
		t.Errorf("%s does not copy $TARGETPLATFORM/%s", d.Dockerfile, b.Binary)
	}
}

// goreleaser finds the goreleaser binary, or skips saying how to install it on a developer's
// machine. Under CI (CI set and not "false") or with LOADPLAN_REQUIRE_GORELEASER=1 a missing
// goreleaser fails the test: scripts/install-test-deps.sh installs it (`go install` downloads
// about 1.9 GB of modules and compiles for about 720 CPU-seconds cold — some 6 minutes of a
// fresh 2-core machine, within make test's budget; a later run finds it installed).
func goreleaser(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("goreleaser"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		for _, dir := range []string{lines[0], filepath.Join(lines[len(lines)-1], "bin")} {
			if p := filepath.Join(dir, "goreleaser"); dir != "" && fileExists(p) {
				return p
			}
		}
	}
	msg := "goreleaser not installed: go install github.com/goreleaser/goreleaser/v2@" + goreleaserVersion
	if ci := os.Getenv("CI"); os.Getenv("LOADPLAN_REQUIRE_GORELEASER") != "" || (ci != "" && ci != "false") {
		t.Fatal(msg + " (scripts/install-test-deps.sh installs it)")
	}
	t.Skip(msg)
	return ""
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// TestGoreleaserCheck runs `goreleaser check` on the repository's configuration.
func TestGoreleaserCheck(t *testing.T) {
	bin := goreleaser(t)
	cmd := exec.Command(bin, "check")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("goreleaser check: %v\n%s", err, out)
	}
}

// TestGoreleaserSnapshotBuild builds the linux/amd64 target with goreleaser in a clean clone of
// HEAD (its dist/ stays out of this tree) and checks that the binary's `version` names the
// commit and a clean tree, as the ldflags say.
func TestGoreleaserSnapshotBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds loadplan with goreleaser")
	}
	bin := goreleaser(t)
	clone := cloneHEAD(t)
	want := strings.TrimSpace(git(t, clone, "rev-parse", "HEAD"))
	cmd := exec.Command(bin, "build", "--snapshot", "--single-target", "--clean", "--id", "loadplan")
	cmd.Dir = clone
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("goreleaser build: %v\n%s", err, out)
	}
	built, _ := filepath.Glob(filepath.Join(clone, "dist", "loadplan_linux_amd64*", "loadplan"))
	if len(built) != 1 {
		t.Fatalf("goreleaser built %v, want one linux/amd64 loadplan", built)
	}
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skipf("built %s; cannot run a linux/amd64 binary on %s/%s", built[0], runtime.GOOS, runtime.GOARCH)
	}
	out, err := exec.Command(built[0], "version", "-json").Output()
	if err != nil {
		t.Fatalf("version -json: %v", err)
	}
	var v buildVersion
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if v.Commit != want || v.Modified == nil || *v.Modified || !strings.Contains(v.Version, "snapshot") || v.Date == "" {
		t.Errorf("goreleaser-built loadplan says %s; want commit %s, clean, a snapshot version and a date", out, want)
	}
}
