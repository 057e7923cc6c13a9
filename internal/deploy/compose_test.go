package deploy

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

var repoRoot = filepath.Join("..", "..")

// loadCompose loads the repository's docker-compose.yml, then the override when one is given,
// with compose-go (what docker compose itself uses: schema validation, interpolation, merge).
func loadCompose(t *testing.T, override []byte, env ...string) *types.Project {
	t.Helper()
	files := []string{filepath.Join(repoRoot, "docker-compose.yml")}
	if override != nil {
		p := filepath.Join(t.TempDir(), "loadplan.override.yml")
		if err := os.WriteFile(p, override, 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	opts, err := cli.NewProjectOptions(files, cli.WithWorkingDirectory(repoRoot), cli.WithEnv(env), cli.WithResolvedPaths(true))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("compose: %v\n%s", err, override)
	}
	return p
}

// TestComposeOverrideLoadsOverTheStack: the override of `deploy compose` merged over
// docker-compose.yml gives the loadplan service N replicas that claim their segment in the
// shared tmpfs volume, the plan mounted read-only, and sensitive variables by name only.
func TestComposeOverrideLoadsOverTheStack(t *testing.T) {
	f := testFleet()
	f.Segments, f.Image, f.HostDir = 4, "", "./plans"
	f.Plans = []string{"load.hcl"}
	out, err := Compose(f)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "s3cr3t-value") {
		t.Fatalf("the override holds the sensitive value:\n%s", out)
	}
	p := loadCompose(t, out, "LOADPLAN_VAR_token=from-the-shell")
	lp, err := p.GetService("loadplan")
	if err != nil {
		t.Fatal(err)
	}
	wantCmd := "apply --segment auto/4 --segment-claim /claims --start-margin 5s --segment-summary - --no-progress " +
		"--out prometheus=0.0.0.0:9646,linger=15s --out influxdb=http://influxdb:8086/loadplan -var host=http://api:8000 /plan/load.hcl"
	if got := strings.Join(lp.Command, " "); got != wantCmd {
		t.Errorf("command\n got %s\nwant %s", got, wantCmd)
	}
	if lp.Scale == nil || *lp.Scale != 4 {
		t.Errorf("scale %v, want 4", lp.Scale)
	}
	if lp.Image != "loadplan:local" { // the base file's, kept
		t.Errorf("image %q", lp.Image)
	}
	if v := lp.Environment["LOADPLAN_VAR_token"]; v == nil || *v != "from-the-shell" {
		t.Errorf("LOADPLAN_VAR_token = %v, want the shell's value", v)
	}
	mounts := map[string]types.ServiceVolumeConfig{}
	for _, v := range lp.Volumes {
		mounts[v.Target] = v
	}
	if c := mounts[ClaimDir]; c.Type != types.VolumeTypeVolume || c.Source != "claims" {
		t.Errorf("claims mount %+v", c)
	}
	if pl := mounts[PlanDir]; pl.Type != types.VolumeTypeBind || !pl.ReadOnly || filepath.Base(pl.Source) != "plans" {
		t.Errorf("plan mount %+v", pl)
	} else if _, err := os.Stat(filepath.Join(pl.Source, "load.hcl")); err != nil {
		t.Errorf("the mounted folder lacks the plan: %v", err)
	}
	if _, ok := mounts["/results"]; !ok {
		t.Errorf("the base file's /results mount was lost: %v", lp.Volumes)
	}
	claims := p.Volumes["claims"]
	if claims.DriverOpts["type"] != "tmpfs" || claims.DriverOpts["device"] != "tmpfs" {
		t.Errorf("claims volume %+v, want tmpfs", claims)
	}
}

// TestComposeOverrideWithoutHostDirRunsTheImagesPlan: without a folder to mount, the plan is the
// image's copy of plans/.
func TestComposeOverrideWithoutHostDirRunsTheImagesPlan(t *testing.T) {
	f := testFleet()
	f.Segments, f.HostDir, f.SecretVars = 2, "", nil
	out, err := Compose(f)
	if err != nil {
		t.Fatal(err)
	}
	lp, err := loadCompose(t, out).GetService("loadplan")
	if err != nil {
		t.Fatal(err)
	}
	if last := lp.Command[len(lp.Command)-1]; last != "/plans/stress.hcl" {
		t.Errorf("plan %q, want /plans/stress.hcl", last)
	}
	if lp.Image != "registry.example/loadplan:1.0" {
		t.Errorf("image %q", lp.Image)
	}
}

// TestComposeStackRunsSegments: the repository's docker-compose.yml itself runs SEGMENTS
// replicas that split the plan (not copies of it), scale and --segment auto/N from one variable.
func TestComposeStackRunsSegments(t *testing.T) {
	for _, tc := range []struct {
		env   []string
		scale int
	}{{nil, 1}, {[]string{"SEGMENTS=4", "PLAN=stress"}, 4}} {
		lp, err := loadCompose(t, nil, tc.env...).GetService("loadplan")
		if err != nil {
			t.Fatal(err)
		}
		cmd := lp.Command
		i := slices.Index(cmd, "--segment")
		if i < 0 || cmd[i+1] != "auto/"+strconv.Itoa(tc.scale) || lp.Scale == nil || *lp.Scale != tc.scale {
			t.Errorf("%v: command %v scale %v, want auto/%d and scale %d", tc.env, cmd, lp.Scale, tc.scale, tc.scale)
		}
		for _, want := range [][2]string{{"--segment-claim", ClaimDir}, {"--segment-summary", "-"}} {
			if j := slices.Index(cmd, want[0]); j < 0 || cmd[j+1] != want[1] {
				t.Errorf("%v: command %v lacks %s %s", tc.env, cmd, want[0], want[1])
			}
		}
		if !strings.HasPrefix(cmd[len(cmd)-1], "/plans/") {
			t.Errorf("the plan file %q is not last (apply's flags come before it)", cmd[len(cmd)-1])
		}
	}
}
