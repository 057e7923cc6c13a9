package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
)

var repoRoot = filepath.Join("..", "..")

// TestComposeFileLoads loads docker-compose.yml with compose-go (the library docker compose
// itself uses), which validates it against the compose schema, and checks the wiring: the
// services, the ports loadplan listens on and Prometheus scrapes, and that every file the stack
// mounts or runs exists in the repository.
func TestComposeFileLoads(t *testing.T) {
	opts, err := cli.NewProjectOptions([]string{filepath.Join(repoRoot, "docker-compose.yml")},
		cli.WithWorkingDirectory(repoRoot), cli.WithEnv([]string{}), cli.WithResolvedPaths(true))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for _, name := range []string{"demo", "loadplan", "prometheus", "influxdb", "grafana"} {
		if _, err := p.GetService(name); err != nil {
			t.Errorf("service %s: %v", name, err)
		}
	}
	lp, err := p.GetService("loadplan")
	if err != nil {
		t.Fatal(err)
	}
	cmd := strings.Join(lp.Command, " ")
	// Flags before the plan file; the replicas split the plan (internal/deploy's tests hold the
	// segment flags and the scale to SEGMENTS).
	for _, want := range []string{"apply --segment auto/1 ", " /plans/load.hcl", "host=http://demo:8000", "--out prometheus=0.0.0.0:9646", "--out influxdb=http://influxdb:8086/loadplan"} {
		if !strings.Contains(cmd, want) {
			t.Errorf("loadplan command %q lacks %q", cmd, want)
		}
	}
	// The plan the stack runs by default is one of the repository's plans (copied to /plans).
	if _, err := os.Stat(filepath.Join(repoRoot, "plans", "load.hcl")); err != nil {
		t.Errorf("the stack runs /plans/load.hcl: %v", err)
	}
	demo, _ := p.GetService("demo")
	if !slices.Contains(demo.Command, "0.0.0.0:8000") {
		t.Errorf("demo command %v does not listen on 0.0.0.0:8000", demo.Command)
	}
	for _, s := range p.Services {
		for _, v := range s.Volumes {
			if v.Type != "bind" || strings.HasSuffix(v.Source, "results") {
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("service %s mounts %s: %v", s.Name, v.Source, err)
			}
		}
	}
	// Prometheus scrapes the port loadplan listens on.
	cfg, err := os.ReadFile(filepath.Join(repoRoot, "dashboards", "prometheus", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^\s+port: 9646$`).Match(cfg) || !strings.Contains(string(cfg), "names: [loadplan]") {
		t.Errorf("prometheus.yml does not scrape loadplan:9646:\n%s", cfg)
	}
	if promtool := findBinary("promtool"); promtool != "" {
		out, err := exec.Command(promtool, "check", "config", filepath.Join(repoRoot, "dashboards", "prometheus", "prometheus.yml")).CombinedOutput()
		if err != nil {
			t.Errorf("promtool check config: %v\n%s", err, out)
		}
	} else if os.Getenv("CI") != "" {
		t.Error("promtool (Debian package prometheus) is missing")
	}
}

// TestDockerfileIsStatic checks the image recipe: a build stage and a final stage, a static
// binary, the example plans inside.
func TestDockerfileIsStatic(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if n := len(regexp.MustCompile(`(?m)^FROM `).FindAllString(s, -1)); n < 2 {
		t.Errorf("%d stages, want a multi-stage build", n)
	}
	for _, want := range []string{"CGO_ENABLED=0", "./cmd/loadplan", "COPY plans /plans", "ENTRYPOINT"} {
		if !strings.Contains(s, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}
