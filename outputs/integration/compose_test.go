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
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/outputs/registry"
)

var repoRoot = filepath.Join("..", "..")

// TestComposeFileLoads loads docker-compose.yml with compose-go (the library docker compose
// itself uses), which validates it against the compose schema, and checks the wiring: the
// services, the ports loadplan listens on and Prometheus scrapes, and that every file the stack
// mounts or runs exists in the repository.
func TestComposeFileLoads(t *testing.T) {
	opts, err := cli.NewProjectOptions([]string{filepath.Join(repoRoot, "docker-compose.yml")},
		cli.WithWorkingDirectory(repoRoot), cli.WithEnv([]string{}), cli.WithResolvedPaths(true),
		cli.WithProfiles([]string{"tracing"})) // the optional Tempo too
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for _, name := range []string{"demo", "loadplan", "prometheus", "influxdb", "grafana", "tempo"} {
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
	for _, want := range []string{"apply --segment auto/1 ", " /plans/load.hcl", "host=http://demo:8000", "--out prometheus=0.0.0.0:9646,linger=", "--out influxdb=http://influxdb:8086/loadplan"} {
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
	checkComposeWaits(t, p.Services)
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

// checkComposeWaits holds the stack to its start and end order: the demo backend has a
// healthcheck that runs the image's own binary (FROM scratch: no shell, no curl) with the probe
// verb against the health route the demo serves, and loadplan starts only once it is healthy;
// the Prometheus output lingers longer than the scrape interval plus the DNS discovery refresh,
// so that the last scrape is not lost; Prometheus keeps native histograms and exemplars.
func checkComposeWaits(t *testing.T, services types.Services) {
	t.Helper()
	demo, lp, prom := services["demo"], services["loadplan"], services["prometheus"]
	hc := demo.HealthCheck
	if hc == nil || hc.Disable {
		t.Fatal("demo has no healthcheck")
	}
	want := []string{"CMD", "/usr/local/bin/loadplan", "probe"}
	if len(hc.Test) < 4 || !slices.Equal(hc.Test[:3], want) || hc.Test[len(hc.Test)-1] != "http://127.0.0.1:8000/api/health" {
		t.Errorf("demo healthcheck %q, want %q … http://127.0.0.1:8000/api/health", hc.Test, want)
	}
	// The probe's URL is the demo's health route, and the binary is where the Dockerfile puts it.
	if b, err := os.ReadFile(filepath.Join(repoRoot, "internal", "demo", "server.go")); err != nil || !strings.Contains(string(b), `"GET /api/health"`) {
		t.Errorf("internal/demo serves no GET /api/health (%v)", err)
	}
	if b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile")); err != nil || !strings.Contains(string(b), "/out/loadplan /usr/local/bin/loadplan") {
		t.Errorf("the Dockerfile does not install /usr/local/bin/loadplan (%v)", err)
	}
	if hc.Interval == nil || hc.Retries == nil || time.Duration(*hc.Interval)*time.Duration(*hc.Retries) < 20*time.Second {
		t.Errorf("demo healthcheck interval %v × retries %v: give the backend at least 20 s", hc.Interval, hc.Retries)
	}
	if dep, ok := lp.DependsOn["demo"]; !ok || dep.Condition != types.ServiceConditionHealthy {
		t.Errorf("loadplan depends_on demo %+v, want condition service_healthy", lp.DependsOn["demo"])
	}

	// Every --out of the command is one apply accepts, and the Prometheus output built from it
	// lingers (it is not started: no port is opened).
	var linger time.Duration
	for i, a := range lp.Command {
		if a != "--out" || i+1 == len(lp.Command) {
			continue
		}
		b, err := registry.Default.Flag(lp.Command[i+1])
		if err != nil {
			t.Errorf("loadplan --out %s: %v", lp.Command[i+1], err)
			continue
		}
		if b.Kind == "prometheus" {
			out, err := registry.Default.Build(b, outputs.Options{})
			if err != nil {
				t.Fatalf("--out %s: %v", lp.Command[i+1], err)
			}
			linger = out.(interface{ Linger() time.Duration }).Linger()
		}
	}
	cfg, err := os.ReadFile(filepath.Join(repoRoot, "dashboards", "prometheus", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var scrape, refresh time.Duration
	if m := regexp.MustCompile(`(?m)^\s+scrape_interval: (\S+)$`).FindSubmatch(cfg); m != nil {
		scrape, _ = time.ParseDuration(string(m[1]))
	}
	if m := regexp.MustCompile(`(?m)^\s+refresh_interval: (\S+)$`).FindSubmatch(cfg); m != nil {
		refresh, _ = time.ParseDuration(string(m[1]))
	}
	if scrape == 0 || refresh == 0 || linger <= scrape+refresh {
		t.Errorf("--out prometheus linger %v, want more than the scrape interval %v plus the DNS refresh %v", linger, scrape, refresh)
	}
	if !slices.Contains(prom.Command, "--enable-feature=native-histograms,exemplar-storage") {
		t.Errorf("prometheus command %q lacks --enable-feature=native-histograms,exemplar-storage", prom.Command)
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
