// Package deploy writes what runs one plan as a fleet of segments on an engine teams already run:
// Kubernetes manifests (a ConfigMap with the plan and its data files, a headless Service, an
// Indexed Job, a Secret for sensitive variables) and a docker compose override for the
// claim-folder scheme. It is pure: cmd/loadplan loads the plan, sizes the pods and hands a Fleet
// in; the generators only turn it into YAML, so tests hold every field to its value.
//
// Every instance runs `loadplan apply --segment auto/N`: in a Job the index comes from
// JOB_COMPLETION_INDEX, under compose it is claimed in a shared folder. The manifests are built
// from small structs that carry the Kubernetes and compose field names rather than from the
// Kubernetes API packages, which stay a test-only dependency (the tests decode the output
// strictly into them, so a misspelt field fails there).
package deploy

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// Defaults of a Fleet's ports and start margin.
const (
	// MetricsPort is the Prometheus output's default port (outputs/prometheus.DefaultListen).
	MetricsPort = 9646
	// MetricsLinger is how long an instance keeps serving its final values after the run, as in
	// docker-compose.yml: the output already waits for the next scrape when something scraped it,
	// and the linger also covers a scraper that found the instance late (DNS or pod discovery).
	MetricsLinger = 15 * time.Second
	// RendezvousPort is where segment 1 waits for the others before the synchronised start.
	RendezvousPort = 9647
	// PlanDir is where the plan and its data files are mounted in a container.
	PlanDir = "/plan"
	// ClaimDir is the compose scheme's shared claim folder.
	ClaimDir = "/claims"
	// ContainerName is the loadplan container's name in the Job (the pod failure policy names it).
	ContainerName = "loadplan"
)

// FailExitCodes are the exit codes that fail the Job at once, without a retry: a verdict (98
// saturated generator, 99 an abort_on_fail threshold stopped the segment — a segment leaves its
// other thresholds to merge) or a mistake no retry fixes (2 usage, 104 invalid plan). Sorted, as
// the API requires.
var FailExitCodes = []int32{2, 98, 99, 104}

// File is one file shipped with the plan: its path relative to the plan's folder, slash-separated.
type File struct {
	Path string
	Data []byte
}

// Fleet is one plan run as Segments instances.
type Fleet struct {
	Name      string // Job, Service and ConfigMap name: a DNS label
	Namespace string // "" leaves it to kubectl's current namespace
	Image     string
	Segments  int
	Plans     []string // the plan's files, paths relative to the plan folder (among Files)
	Files     []File   // the plan's files and the data files it reads
	// Vars are plan variables passed as -var on the command line; SecretVars are sensitive ones,
	// which never appear in an argument or a ConfigMap: a Secret (Kubernetes) or the shell's
	// environment (compose) hands them in as LOADPLAN_VAR_name.
	Vars, SecretVars map[string]string
	Outs             []string // extra --out values (the Prometheus output is always added)
	EnvFrom          []string // Kubernetes Secrets whose keys become environment variables (for env())
	StartMargin      time.Duration
	MetricsPort      int
	RendezvousPort   int
	// MemoryRequest is the bytes one segment needs at its peak; the limit is twice it. CPURequest
	// is in millicores. There is no CPU limit: throttling a load generator delays its requests and
	// shows up as latency of the target.
	MemoryRequest int64
	CPURequest    int64
	// Deadline bounds the Job's run (activeDeadlineSeconds): a fleet that cannot meet, because a
	// pod is never scheduled, must not hold the others at the rendezvous for ever. 0 sets none.
	Deadline time.Duration
	// Compose only: the folder holding the plan on the Docker host, mounted at PlanDir ("" uses
	// the image's /plans), and the compose service to override.
	HostDir string
	Service string
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// check reports the first problem with f that would make a manifest the engine refuses.
func (f *Fleet) check() error {
	switch {
	case f.Segments < 1:
		return fmt.Errorf("--segments %d: give the number of instances, 1 or more", f.Segments)
	case len(f.Plans) == 0:
		return fmt.Errorf("no plan file")
	case f.Image == "":
		return fmt.Errorf("no image: give --image")
	}
	// A pod of an Indexed Job is named NAME-INDEX in a DNS label of at most 63 characters.
	if !dnsLabel.MatchString(f.Name) || len(f.Name)+1+len(strconv.Itoa(f.Segments-1)) > 52 {
		return fmt.Errorf("--name %q: write lower-case letters, digits and '-', starting and ending with a letter or digit, at most 50 characters", f.Name)
	}
	if f.Namespace != "" && !dnsLabel.MatchString(f.Namespace) {
		return fmt.Errorf("--namespace %q is not a DNS label", f.Namespace)
	}
	for name := range f.SecretVars {
		if _, clear := f.Vars[name]; clear {
			return fmt.Errorf("variable %s is both clear and sensitive", name)
		}
	}
	return nil
}

// applyArgs returns the command line of one instance after "loadplan": the segment flags of the
// scheme (extra), the Prometheus listener on every interface, the other outputs, the clear
// variables, and the plan files last (apply's flags come before its files).
func (f *Fleet) applyArgs(extra ...string) []string {
	args := []string{"apply", "--segment", "auto/" + strconv.Itoa(f.Segments)}
	args = append(args, extra...)
	if f.StartMargin > 0 {
		args = append(args, "--start-margin", f.StartMargin.String())
	}
	args = append(args, "--segment-summary", "-", "--no-progress",
		"--out", "prometheus=0.0.0.0:"+strconv.Itoa(f.metricsPort())+",linger="+MetricsLinger.String())
	for _, o := range f.Outs {
		args = append(args, "--out", o)
	}
	for _, name := range sortedKeys(f.Vars) {
		args = append(args, "-var", name+"="+f.Vars[name])
	}
	for _, p := range f.Plans {
		args = append(args, path.Join(PlanDir, p))
	}
	return args
}

func (f *Fleet) metricsPort() int {
	if f.MetricsPort > 0 {
		return f.MetricsPort
	}
	return MetricsPort
}

func (f *Fleet) rendezvousPort() int {
	if f.RendezvousPort > 0 {
		return f.RendezvousPort
	}
	return RendezvousPort
}

// EnvVarPrefix is how a plan variable is set from the environment (plan.EnvVarPrefix).
const EnvVarPrefix = "LOADPLAN_VAR_"

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// documents renders each value as a YAML document, separated by "---".
func documents(header string, docs ...any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(header)
	for i, d := range docs {
		y, err := yaml.Marshal(d)
		if err != nil {
			return nil, fmt.Errorf("deploy: %w", err)
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(y)
	}
	return b.Bytes(), nil
}

// comment turns lines into a YAML comment block.
func comment(lines ...string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(strings.TrimRight("# "+l, " ") + "\n")
	}
	return b.String()
}
