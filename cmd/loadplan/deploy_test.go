package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/loadplan/loadplan/executor"
)

// deployPlan reads a CSV through a data block and a JSON body through file(), and takes a
// sensitive token; its peak is var.users VUs.
const deployPlan = `variable "host" {
  type = string
}
variable "token" {
  type      = string
  sensitive = true
}
variable "users" {
  type    = number
  default = 1000
}
target "api" {
  base_url = var.host
}
data "users" {
  csv = "data/users.csv"
}
scenario "orders" {
  target = target.api
  http "order" {
    method  = "POST"
    path    = "/api/orders"
    body    = file("bodies/order.json")
    headers = { Authorization = "Bearer ${var.token}", User = data.users.user }
  }
}
load {
  stage {
    duration = "10s"
    target   = var.users
  }
}
`

// writeDeployPlan lays the plan and its two data files out in a new folder.
func writeDeployPlan(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range map[string]string{
		"orders.hcl":         deployPlan,
		"data/users.csv":     "user\nalice\nbob\n",
		"bodies/order.json":  `{"symbol":"AAPL","qty":1}`,
		"unrelated/note.txt": "not read by the plan",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "orders.hcl")
}

// decodeStrict decodes the documents of out strictly into the API types, by kind.
func decodeStrict(t *testing.T, out []byte) (cm *corev1.ConfigMap, sec *corev1.Secret, job *batchv1.Job) {
	t.Helper()
	for _, doc := range bytes.Split(out, []byte("\n---\n")) {
		var head struct{ Kind string }
		if err := yaml.Unmarshal(doc, &head); err != nil {
			t.Fatal(err)
		}
		var err error
		switch head.Kind {
		case "ConfigMap":
			cm = &corev1.ConfigMap{}
			err = yaml.UnmarshalStrict(doc, cm)
		case "Secret":
			sec = &corev1.Secret{}
			err = yaml.UnmarshalStrict(doc, sec)
		case "Job":
			job = &batchv1.Job{}
			err = yaml.UnmarshalStrict(doc, job)
		case "Service":
			err = yaml.UnmarshalStrict(doc, &corev1.Service{})
		default:
			t.Fatalf("unexpected kind %q", head.Kind)
		}
		if err != nil {
			t.Fatalf("%s: %v", head.Kind, err)
		}
	}
	if cm == nil || job == nil {
		t.Fatalf("no ConfigMap or Job in\n%s", out)
	}
	return cm, sec, job
}

// TestDeployKubernetesShipsThePlanAndSizesThePods: deploy loads the plan, ships it with the CSV
// and the file() it reads (and nothing else of its folder), keeps the sensitive token out of the
// ConfigMap and the arguments, and sizes each pod from the largest segment's peak.
func TestDeployKubernetesShipsThePlanAndSizesThePods(t *testing.T) {
	planFile := writeDeployPlan(t)
	for _, tc := range []struct {
		users, segments int
		memMi, cpuMilli int64
		largestSegment  int64
	}{
		// memory = VUs x 25 KB + 32 MiB, rounded up to MiB; CPU = VUs / 10 millicores, at least 250m.
		{1000, 4, (250*25<<10 + 32<<20 + 1<<20 - 1) >> 20, 250, 250},
		{1000, 3, (334*25<<10 + 32<<20 + 1<<20 - 1) >> 20, 250, 334},
		{20000, 2, (10000*25<<10 + 32<<20 + 1<<20 - 1) >> 20, 1000, 10000},
	} {
		var stdout, stderr bytes.Buffer
		code := dispatch([]string{"deploy", "kubernetes", planFile, "--segments", strconv.Itoa(tc.segments),
			"-var", "host=http://api:8000", "-var", "token=tok-s3cret", "-var", "users=" + strconv.Itoa(tc.users)}, &stdout, &stderr)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		out := stdout.Bytes()
		if bytes.Contains(out, []byte("tok-s3cret")) || strings.Contains(stderr.String(), "tok-s3cret") {
			t.Fatalf("the sensitive value is in clear in the output")
		}
		cm, sec, job := decodeStrict(t, out)
		if cm.Data["orders.hcl"] != deployPlan || cm.Data["data_users.csv"] != "user\nalice\nbob\n" ||
			cm.Data["bodies_order.json"] != `{"symbol":"AAPL","qty":1}` || len(cm.Data) != 3 {
			t.Errorf("ConfigMap keys %v", keysOf(cm.Data))
		}
		if sec == nil || string(sec.Data["token"]) != "tok-s3cret" {
			t.Fatalf("Secret %+v", sec)
		}
		c := job.Spec.Template.Spec.Containers[0]
		args := strings.Join(c.Args, " ")
		if strings.Contains(args, "token") || !strings.HasSuffix(args, "-var host=http://api:8000 -var users="+strconv.Itoa(tc.users)+" /plan/orders.hcl") {
			t.Errorf("args %s", args)
		}
		if len(c.Env) != 1 || c.Env[0].Name != "LOADPLAN_VAR_token" || c.Env[0].ValueFrom.SecretKeyRef.Name != sec.Name {
			t.Errorf("env %+v", c.Env)
		}
		wantMem := resource.MustParse(strconv.Itoa(int(tc.memMi)) + "Mi")
		wantLimit := resource.MustParse(strconv.Itoa(int(2*tc.memMi)) + "Mi")
		if !c.Resources.Requests.Memory().Equal(wantMem) || !c.Resources.Limits.Memory().Equal(wantLimit) ||
			c.Resources.Requests.Cpu().MilliValue() != tc.cpuMilli {
			t.Errorf("%d VUs / %d: requests %v limits %v, want memory %dMi (largest segment %d VUs, limit twice) cpu %dm",
				tc.users, tc.segments, c.Resources.Requests, c.Resources.Limits, tc.memMi, tc.largestSegment, tc.cpuMilli)
		}
		if *job.Spec.Completions != int32(tc.segments) || *job.Spec.Parallelism != int32(tc.segments) {
			t.Errorf("completions %d parallelism %d", *job.Spec.Completions, *job.Spec.Parallelism)
		}
		// The deadline: the 10 s stage + the default graceful stop of 30 s + 15 minutes to start.
		if d := job.Spec.ActiveDeadlineSeconds; d == nil || *d != 10+30+15*60 {
			t.Errorf("activeDeadlineSeconds %v, want %d", d, 10+30+15*60)
		}
		if job.Name != "loadplan-orders" {
			t.Errorf("name %q", job.Name)
		}
	}
}

// TestDeployRefusesWhatCannotShip: a data file outside the plan's folder, no --segments, an
// unknown engine, an invalid plan: each a clear message and its exit code, nothing on stdout.
func TestDeployRefusesWhatCannotShip(t *testing.T) {
	planFile := writeDeployPlan(t)
	outside := filepath.Join(t.TempDir(), "outside.hcl")
	src := strings.Replace(deployPlan, `file("bodies/order.json")`, `file("`+filepath.ToSlash(filepath.Join(filepath.Dir(planFile), "bodies", "order.json"))+`")`, 1)
	if err := os.WriteFile(outside, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	// outside.hcl's CSV path is relative to its own folder: copy it there so only the body is outside.
	if err := os.MkdirAll(filepath.Join(filepath.Dir(outside), "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(outside), "data", "users.csv"), []byte("user\na\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"deploy", "kubernetes", outside, "--segments", "2", "-var", "host=http://a", "-var", "token=x"}, exitUsage, "outside its folder"},
		{[]string{"deploy", "kubernetes", planFile, "-var", "host=http://a"}, exitUsage, "--segments N"},
		{[]string{"deploy", "nomad", planFile, "--segments", "2"}, exitUsage, "deploy kubernetes"},
		{[]string{"deploy", "compose", planFile, "--segments", "2"}, exitInvalidPlan, "host"},
		{[]string{"deploy", "kubernetes", planFile, "--segments", "2", "--name", "Bad_Name", "-var", "host=http://a", "-var", "token=x"}, exitUsage, "--name"},
	} {
		var stdout, stderr bytes.Buffer
		if code := dispatch(tc.args, &stdout, &stderr); code != tc.code || stdout.Len() != 0 || !strings.Contains(stderr.String(), tc.says) {
			t.Errorf("%v: exit %d (want %d), stdout %d bytes, stderr %q (want %q)", tc.args[1:3], code, tc.code, stdout.Len(), stderr.String(), tc.says)
		}
	}
}

// TestDeployComposeMountsThePlanFolder: the compose override mounts the plan's folder (relative
// to the working folder when below it) and names the sensitive variable without its value.
func TestDeployComposeMountsThePlanFolder(t *testing.T) {
	planFile := writeDeployPlan(t)
	var stdout, stderr bytes.Buffer
	code := dispatch([]string{"deploy", "compose", planFile, "--segments", "4", "-var", "host=http://demo:8000", "-var", "token=tok-s3cret"}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"- auto/4", "- --segment-claim\n", "- /claims\n", "scale: 4", filepath.Dir(planFile) + ":/plan:ro", "- LOADPLAN_VAR_token\n", "- /plan/orders.hcl\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("override lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "tok-s3cret") {
		t.Errorf("the override holds the sensitive value")
	}
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestDeployCommandLinesParseAsApply: the command line each pod and each compose replica runs
// is one apply accepts: its flags before the plan, the plan at /plan, the segment summary on
// stdout. The flags of issue 14's segment contract (--segment auto/N, --rendezvous,
// --segment-claim, --start-margin) are another branch's; until it is merged, apply reports them
// unknown, which alone is tolerated, and the rest of the line is parsed without them.
func TestDeployCommandLinesParseAsApply(t *testing.T) {
	planFile := writeDeployPlan(t)
	base := []string{planFile, "--segments", "3", "-var", "host=http://api:8000", "-var", "token=x", "--out", "influxdb=http://influx:8086/db"}
	var k8s, compose bytes.Buffer
	if code := dispatch(append([]string{"deploy", "kubernetes"}, base...), &k8s, io.Discard); code != exitOK {
		t.Fatalf("deploy kubernetes: exit %d", code)
	}
	_, _, job := decodeStrict(t, k8s.Bytes())
	if code := dispatch(append([]string{"deploy", "compose"}, base...), &compose, io.Discard); code != exitOK {
		t.Fatalf("deploy compose: exit %d", code)
	}
	var override struct {
		Services map[string]struct{ Command []string }
	}
	if err := yaml.Unmarshal(compose.Bytes(), &override); err != nil {
		t.Fatal(err)
	}
	contract := regexp.MustCompile(`flag provided but not defined: -(rendezvous|segment-claim|start-margin)|--segment "auto/3"`)
	for name, args := range map[string][]string{
		"kubernetes": job.Spec.Template.Spec.Containers[0].Args, "compose": override.Services["loadplan"].Command,
	} {
		if args[0] != "apply" || args[len(args)-1] != "/plan/orders.hcl" {
			t.Fatalf("%s: %v does not run apply on /plan/orders.hcl", name, args)
		}
		// The pod's /plan is the plan's folder here: apply checks that the file exists.
		args = append(slices.Clone(args[:len(args)-1]), planFile)
		var stderr bytes.Buffer
		if name == "kubernetes" {
			t.Setenv("JOB_COMPLETION_INDEX", "2") // what the Job sets in its third pod
		}
		full, err := parseApplyFlags(args[1:], &stderr)
		switch {
		case err != nil && !contract.MatchString(err.Error()):
			t.Errorf("%s: apply refuses %v: %v", name, args, err)
		case err != nil:
			t.Logf("%s: the segment contract is not in this apply yet: %v", name, err)
		case name == "kubernetes" && full.segment != executor.Segment{Index: 3, Total: 3}:
			t.Errorf("kubernetes: JOB_COMPLETION_INDEX=2 runs segment %v, want 3/3", full.segment)
		}
		var rest []string
		for i := 1; i < len(args); i++ {
			switch args[i] {
			case "--segment", "--rendezvous", "--segment-claim", "--start-margin":
				i++ // and its value
			default:
				rest = append(rest, args[i])
			}
		}
		o, err := parseApplyFlags(rest, io.Discard)
		if err != nil {
			t.Fatalf("%s: apply refuses %v: %v", name, rest, err)
		}
		if !slices.Equal(o.paths, []string{planFile}) || o.segmentSum != "-" || !o.noProgress ||
			o.vars["host"] != "http://api:8000" || o.vars["token"] != "" {
			t.Errorf("%s: apply reads paths %v segment summary %q vars %v", name, o.paths, o.segmentSum, o.vars)
		}
		if got := strings.Join(rest, " "); !strings.Contains(got, "--out prometheus=0.0.0.0:9646,linger=15s --out influxdb=http://influx:8086/db") {
			t.Errorf("%s: outputs in %s", name, got)
		}
	}
}

// TestDeployWarnsOfAVariableFromThisShell: a variable deploy read from LOADPLAN_VAR_name is not
// in the manifests (the pods lack this shell's environment): deploy says so, without the value.
func TestDeployWarnsOfAVariableFromThisShell(t *testing.T) {
	planFile := writeDeployPlan(t)
	t.Setenv("LOADPLAN_VAR_token", "tok-from-shell")
	var stdout, stderr bytes.Buffer
	if code := dispatch([]string{"deploy", "kubernetes", planFile, "--segments", "2", "-var", "host=http://api:8000"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "variable token takes its value from LOADPLAN_VAR_token here") {
		t.Errorf("no warning: %q", stderr.String())
	}
	if strings.Contains(stdout.String()+stderr.String(), "tok-from-shell") {
		t.Errorf("the shell's value was written")
	}
	if _, sec, _ := decodeStrict(t, stdout.Bytes()); sec != nil {
		t.Errorf("a Secret without a -var: %+v", sec.Data)
	}
}
