package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/loadplan/loadplan/executor"
	"github.com/loadplan/loadplan/internal/deploy"
	"github.com/loadplan/loadplan/plan"
)

const deployUsage = `Usage:
  loadplan deploy kubernetes [flags] PLAN --segments N   print ConfigMap, Service and Indexed Job YAML
  loadplan deploy compose [flags] PLAN --segments N      print a docker compose override (claim folder)

  loadplan deploy kubernetes plans/stress.hcl --segments 8 -var host=http://api:8000 | kubectl apply -f -
`

// deployOptions are the flags of deploy.
type deployOptions struct {
	segments         int
	name, namespace  string
	image, service   string
	vars             map[string]string
	outs             []string
	envFrom          []string
	startMargin      time.Duration
	memory           string // override of the computed request, a Kubernetes quantity in Mi
	cpu              int64  // override of the computed request, millicores
	metrics, meeting int
	deadline         time.Duration // -1: from the plan
}

// startAllowance is the part of the Job's deadline for scheduling the pods, pulling the image and
// meeting at the rendezvous, beside the plan's own time.
const startAllowance = 15 * time.Minute

// runDeploy prints the manifests that run a plan as a fleet of segments (internal/deploy).
func runDeploy(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "kubernetes" && args[0] != "k8s" && args[0] != "compose") {
		fmt.Fprint(stderr, deployUsage)
		return exitUsage
	}
	engine := args[0]
	o := deployOptions{vars: map[string]string{}}
	fs := flag.NewFlagSet("deploy "+engine, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.segments, "segments", 0, "run the plan as `N` segments, one instance each (required)")
	fs.StringVar(&o.name, "name", "", "name of the Job, Service and ConfigMap (default loadplan-PLAN)")
	fs.StringVar(&o.namespace, "namespace", "", "namespace of the manifests (default: kubectl's current one)")
	fs.StringVar(&o.image, "image", "", "container image (kubernetes default loadplan:local, what docker compose builds; compose default: the base file's)")
	fs.StringVar(&o.service, "service", deploy.DefaultService, "compose: the service the override scales")
	fs.Func("var", "set a plan variable: -var name=value (repeatable); sensitive ones go to a Secret", func(s string) error {
		name, value, ok := strings.Cut(s, "=")
		if name = strings.TrimSpace(name); !ok || name == "" {
			return fmt.Errorf("write -var name=value, e.g. -var host=http://api:8000")
		}
		o.vars[name] = value
		return nil
	})
	fs.Func("out", "add an output `KIND[=VALUE]` to every instance, as apply's --out (repeatable); prometheus=0.0.0.0:9646 is always there", func(s string) error {
		o.outs = append(o.outs, s)
		return nil
	})
	fs.Func("env-from", "kubernetes: a Secret `NAME` whose keys become the pods' environment, for env() in the plan (repeatable)", func(s string) error {
		o.envFrom = append(o.envFrom, s)
		return nil
	})
	fs.DurationVar(&o.startMargin, "start-margin", 5*time.Second, "the segments start together this long after the last one joined")
	fs.StringVar(&o.memory, "memory", "", "kubernetes: memory request per pod, e.g. 512Mi (default: from the plan's peak)")
	fs.Int64Var(&o.cpu, "cpu", 0, "kubernetes: CPU request per pod in millicores (default: from the plan's peak)")
	fs.DurationVar(&o.deadline, "deadline", -1, "kubernetes: the Job's activeDeadlineSeconds (default: the plan's duration + graceful stop + 15m; 0 for none)")
	fs.IntVar(&o.metrics, "metrics-port", deploy.MetricsPort, "port of the Prometheus output in each instance")
	fs.IntVar(&o.meeting, "rendezvous-port", deploy.RendezvousPort, "kubernetes: port segment 1 listens on for the others")
	files, err := parseInterleaved(fs, args[1:])
	if err != nil {
		return exitUsage
	}
	if len(files) == 0 || o.segments < 1 {
		fmt.Fprintln(stderr, "loadplan deploy: give the plan file and --segments N (N >= 1)")
		fmt.Fprint(stderr, deployUsage)
		return exitUsage
	}
	f, code := fleetOf(files, &o, stderr)
	if f == nil {
		return code
	}
	var out []byte
	if engine == "compose" {
		out, err = deploy.Compose(*f) // no --image: the base file's image or build stays
	} else {
		if f.Image == "" {
			f.Image = "loadplan:local"
		}
		out, err = deploy.Kubernetes(*f)
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadplan deploy:", err)
		return exitUsage
	}
	if _, err := stdout.Write(out); err != nil {
		fmt.Fprintln(stderr, "loadplan deploy:", err)
		return exitRuntime
	}
	return exitOK
}

// fleetOf loads the plan as each instance will (N instances share the VU bounds), gathers the
// files it reads, splits the variables into clear and sensitive, and sizes one segment's pod.
func fleetOf(files []string, o *deployOptions, stderr io.Writer) (*deploy.Fleet, int) {
	var read []string
	env := environ()
	opts := plan.Options{Env: env, Vars: o.vars, Instances: o.segments, FileRead: func(p string) { read = append(read, p) }}
	pv := planVars{vars: o.vars}
	opts.Outputs = pv.options().Outputs
	p, parsed, diags := plan.LoadFiles(files, opts)
	printDiagnostics(stderr, parsed, diags)
	if diags.HasErrors() || p == nil {
		return nil, exitInvalidPlan
	}
	base, err := filepath.Abs(filepath.Dir(files[0]))
	if err != nil {
		fmt.Fprintln(stderr, "loadplan deploy:", err)
		return nil, exitRuntime
	}
	f := &deploy.Fleet{Name: o.name, Namespace: o.namespace, Image: o.image, Segments: o.segments,
		Outs: o.outs, EnvFrom: o.envFrom, StartMargin: o.startMargin, MetricsPort: o.metrics,
		RendezvousPort: o.meeting, Service: o.service, CPURequest: o.cpu,
		Vars: map[string]string{}, SecretVars: map[string]string{}}
	if f.Name == "" {
		f.Name = defaultFleetName(files[0])
	}
	seen := map[string]bool{}
	add := func(path string, isPlan bool) error {
		abs, err := filepath.Abs(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(base, abs)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return fmt.Errorf("the plan reads %s, outside its folder %s: move it next to the plan, so that it ships with it", path, base)
		}
		rel = filepath.ToSlash(rel)
		if isPlan {
			f.Plans = append(f.Plans, rel)
		}
		if seen[rel] {
			return nil
		}
		seen[rel] = true
		data, err := os.ReadFile(abs)
		if err != nil {
			return err
		}
		f.Files = append(f.Files, deploy.File{Path: rel, Data: data})
		return nil
	}
	for _, path := range files {
		err = errors.Join(err, add(path, true))
	}
	for _, d := range p.Data {
		err = errors.Join(err, add(d.Path, false))
	}
	for _, path := range read {
		err = errors.Join(err, add(path, false))
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadplan deploy:", err)
		return nil, exitUsage
	}
	if rel, err := filepath.Rel(mustGetwd(), base); err == nil && !strings.HasPrefix(rel, "..") {
		f.HostDir = "./" + filepath.ToSlash(rel)
	} else {
		f.HostDir = base
	}
	sensitive := map[string]bool{}
	for _, v := range p.Variables {
		sensitive[v.Name] = v.Sensitive
		// Loading here read LOADPLAN_VAR_name from this shell; a pod's environment lacks it.
		if _, given := o.vars[v.Name]; !given {
			if _, set := env[plan.EnvVarPrefix+v.Name]; set {
				fmt.Fprintf(stderr, "loadplan deploy: variable %s takes its value from %s%s here, which the instances do not have: "+
					"pass -var %s=... (a sensitive one goes to a Secret) or --env-from a Secret holding %s%s\n",
					v.Name, plan.EnvVarPrefix, v.Name, v.Name, plan.EnvVarPrefix, v.Name)
			}
		}
	}
	for name, value := range o.vars {
		if sensitive[name] {
			f.SecretVars[name] = value
		} else {
			f.Vars[name] = value
		}
	}
	if err := sizeFleet(f, p, o); err != nil {
		fmt.Fprintln(stderr, "loadplan deploy:", err)
		return nil, exitInvalidPlan
	}
	return f, exitOK
}

// sizeFleet sets the pods' requests from the largest segment's peak, as apply's own resource
// check estimates it (limits.go: 25 KB a VU, 50 KB a WebSocket session, 32 MB for the process,
// from bench/RESULTS.md), and CPU at a tenth of a millicore a VU (10,000 VUs making a request a
// second each used half a core in the benchmark: this asks twice that), at least 250m.
func sizeFleet(f *deploy.Fleet, p *plan.Plan, o *deployOptions) error {
	outs := append([]*plan.OutputBlock(nil), p.Outputs...)
	var most resourceNeed
	for i := 1; i <= f.Segments; i++ {
		n, err := estimateNeed(p, needInput{segment: executor.Segment{Index: i, Total: f.Segments}, outs: outs})
		if err != nil {
			return err
		}
		if n.memory() > most.memory() {
			most = n
		}
	}
	f.MemoryRequest = int64(most.memory())
	if o.memory != "" {
		var mi int64
		if _, err := fmt.Sscanf(o.memory, "%dMi", &mi); err != nil || mi < 1 {
			return fmt.Errorf("--memory %q: write mebibytes, e.g. 512Mi", o.memory)
		}
		f.MemoryRequest = mi << 20
	}
	// The deadline: the schedule, the longest graceful stop, and room to schedule the pods, pull
	// the image and meet (the same for every segment: each runs the whole schedule's time).
	if o.deadline < 0 {
		sched, err := schedule(p, needInput{segment: executor.Segment{Index: 1, Total: f.Segments}})
		if err != nil {
			return err
		}
		var stop time.Duration
		for _, l := range sched.Loads {
			stop = max(stop, l.Load.GracefulStop, l.Load.GracefulRampDown)
		}
		f.Deadline = sched.Total + stop + startAllowance
	} else {
		f.Deadline = o.deadline
	}
	if f.CPURequest == 0 {
		f.CPURequest = max(250, int64(most.memVUs+9)/10)
	}
	return nil
}

var nameChars = regexp.MustCompile(`[^a-z0-9]+`)

// defaultFleetName is loadplan-<plan file name> as a DNS label.
func defaultFleetName(planFile string) string {
	n := strings.TrimSuffix(filepath.Base(planFile), filepath.Ext(planFile))
	n = strings.Trim(nameChars.ReplaceAllString(strings.ToLower(n), "-"), "-")
	if len(n) > 40 {
		n = strings.Trim(n[:40], "-")
	}
	if n == "" {
		return "loadplan"
	}
	return "loadplan-" + n
}

func mustGetwd() string {
	wd, _ := os.Getwd()
	return wd
}
