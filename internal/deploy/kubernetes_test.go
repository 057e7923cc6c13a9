package deploy

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"
)

// Manifests is the output of Kubernetes decoded strictly into the API types.
type Manifests struct {
	Secret    *corev1.Secret
	ConfigMap *corev1.ConfigMap
	Service   *corev1.Service
	Job       *batchv1.Job
}

// DecodeManifests splits YAML documents and decodes each strictly (an unknown or misspelt field
// is an error) into the API type its kind names; a kind other than the four, or one twice, fails.
func DecodeManifests(t testing.TB, out []byte) Manifests {
	t.Helper()
	var m Manifests
	for i, doc := range bytes.Split(out, []byte("\n---\n")) {
		var head struct{ APIVersion, Kind string }
		if err := yaml.Unmarshal(doc, &head); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		var into any
		switch head.APIVersion + " " + head.Kind {
		case "v1 Secret":
			m.Secret, into = &corev1.Secret{}, &m.Secret
		case "v1 ConfigMap":
			m.ConfigMap, into = &corev1.ConfigMap{}, &m.ConfigMap
		case "v1 Service":
			m.Service, into = &corev1.Service{}, &m.Service
		case "batch/v1 Job":
			m.Job, into = &batchv1.Job{}, &m.Job
		default:
			t.Fatalf("document %d is %s %s", i, head.APIVersion, head.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, into); err != nil {
			t.Fatalf("document %d (%s) does not decode strictly: %v\n%s", i, head.Kind, err, doc)
		}
	}
	return m
}

func testFleet() Fleet {
	return Fleet{
		Name: "loadplan-stress", Namespace: "perf", Image: "registry.example/loadplan:1.0", Segments: 8,
		Plans: []string{"stress.hcl"},
		Files: []File{
			{Path: "stress.hcl", Data: []byte("load { vus = 80 }\n")},
			{Path: "data/users.csv", Data: []byte("user\nalice\n")},
			{Path: "data/blob.bin", Data: []byte{0xff, 0x00, 0xfe}},
		},
		Vars:       map[string]string{"host": "http://api:8000"},
		SecretVars: map[string]string{"token": "s3cr3t-value"},
		Outs:       []string{"influxdb=http://influxdb:8086/loadplan"}, EnvFrom: []string{"api-creds"},
		StartMargin: 5 * time.Second, MemoryRequest: 60 << 20, CPURequest: 1000, Deadline: 20*time.Minute + 500*time.Millisecond,
	}
}

func TestKubernetesManifestsDecodeStrictlyWithEveryField(t *testing.T) {
	out, err := Kubernetes(testFleet())
	if err != nil {
		t.Fatal(err)
	}
	m := DecodeManifests(t, out)
	if m.Secret == nil || m.ConfigMap == nil || m.Service == nil || m.Job == nil {
		t.Fatalf("want Secret, ConfigMap, Service and Job, got %+v", m)
	}
	for _, md := range []string{m.Secret.Namespace, m.ConfigMap.Namespace, m.Service.Namespace, m.Job.Namespace} {
		if md != "perf" {
			t.Errorf("namespace %q, want perf", md)
		}
	}

	// The ConfigMap holds the plan and its files; each key goes back to its path in the volume.
	cm := m.ConfigMap
	if cm.Data["stress.hcl"] != "load { vus = 80 }\n" || cm.Data["data_users.csv"] != "user\nalice\n" ||
		!bytes.Equal(cm.BinaryData["data_blob.bin"], []byte{0xff, 0x00, 0xfe}) {
		t.Errorf("ConfigMap data %q binary %v", cm.Data, cm.BinaryData)
	}

	// The headless Service gives pod 0 its DNS name and publishes it before it is ready.
	svc := m.Service.Spec
	if svc.ClusterIP != "None" || !svc.PublishNotReadyAddresses || len(svc.Ports) != 2 ||
		svc.Ports[0].Port != RendezvousPort || svc.Ports[1].Port != MetricsPort {
		t.Errorf("Service spec %+v", svc)
	}

	job := m.Job.Spec
	if job.CompletionMode == nil || *job.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("completionMode %v", job.CompletionMode)
	}
	if *job.Completions != 8 || *job.Parallelism != 8 || *job.BackoffLimit != 0 {
		t.Errorf("completions %d parallelism %d backoffLimit %d, want 8 8 0", *job.Completions, *job.Parallelism, *job.BackoffLimit)
	}
	if job.ActiveDeadlineSeconds == nil || *job.ActiveDeadlineSeconds != 1201 {
		t.Errorf("activeDeadlineSeconds %v, want 1201 (20m0.5s rounded up)", job.ActiveDeadlineSeconds)
	}
	rules := job.PodFailurePolicy.Rules
	if len(rules) != 1 || rules[0].Action != batchv1.PodFailurePolicyActionFailJob ||
		rules[0].OnExitCodes.Operator != batchv1.PodFailurePolicyOnExitCodesOpIn ||
		!slices.Equal(rules[0].OnExitCodes.Values, []int32{2, 98, 99, 104}) ||
		*rules[0].OnExitCodes.ContainerName != ContainerName {
		t.Errorf("podFailurePolicy %+v", job.PodFailurePolicy)
	}
	pod := job.Template
	if pod.Spec.RestartPolicy != corev1.RestartPolicyNever || pod.Spec.Subdomain != m.Service.Name {
		t.Errorf("restartPolicy %s subdomain %q (Service %q)", pod.Spec.RestartPolicy, pod.Spec.Subdomain, m.Service.Name)
	}
	for k, v := range m.Service.Spec.Selector {
		if pod.Labels[k] != v {
			t.Errorf("the Service selects %s=%s, the pods have %q", k, v, pod.Labels[k])
		}
	}
	wantAnn := map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "9646", "prometheus.io/path": "/metrics"}
	for k, v := range wantAnn {
		if pod.Annotations[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, pod.Annotations[k], v)
		}
	}
	c := pod.Spec.Containers[0]
	wantArgs := "apply --segment auto/8 --rendezvous loadplan-stress-0.loadplan-stress:9647 --start-margin 5s " +
		"--segment-summary - --no-progress --out prometheus=0.0.0.0:9646,linger=15s --out influxdb=http://influxdb:8086/loadplan " +
		"-var host=http://api:8000 /plan/stress.hcl"
	if got := strings.Join(c.Args, " "); got != wantArgs {
		t.Errorf("args\n got %s\nwant %s", got, wantArgs)
	}
	if c.Image != "registry.example/loadplan:1.0" || c.Name != ContainerName {
		t.Errorf("container %s image %s", c.Name, c.Image)
	}
	if !c.Resources.Requests.Memory().Equal(resource.MustParse("60Mi")) || !c.Resources.Limits.Memory().Equal(resource.MustParse("120Mi")) ||
		!c.Resources.Requests.Cpu().Equal(resource.MustParse("1")) || !c.Resources.Limits.Cpu().IsZero() {
		t.Errorf("resources %+v", c.Resources)
	}
	vol := pod.Spec.Volumes[0].ConfigMap
	if vol.Name != cm.Name || len(vol.Items) != 3 || vol.Items[1].Key != "data_users.csv" || vol.Items[1].Path != "data/users.csv" {
		t.Errorf("volume %+v", vol)
	}
	if c.VolumeMounts[0].MountPath != PlanDir || !c.VolumeMounts[0].ReadOnly {
		t.Errorf("mount %+v", c.VolumeMounts)
	}
	if sc := c.SecurityContext; sc == nil || !*sc.RunAsNonRoot || *sc.AllowPrivilegeEscalation ||
		!slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("securityContext %+v, want what the restricted Pod Security Standard asks", sc)
	}
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef.Name != "api-creds" {
		t.Errorf("envFrom %+v", c.EnvFrom)
	}
}

// TestKubernetesSensitiveVariableOnlyInTheSecret: the value of a sensitive variable is in the
// Secret's data and reaches the container through a secretKeyRef, never in clear anywhere else.
func TestKubernetesSensitiveVariableOnlyInTheSecret(t *testing.T) {
	out, err := Kubernetes(testFleet())
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(out, []byte("s3cr3t-value")); n != 0 {
		t.Errorf("the secret value is in the output in clear %d times", n)
	}
	m := DecodeManifests(t, out)
	if got := string(m.Secret.Data["token"]); got != "s3cr3t-value" {
		t.Errorf("Secret data token = %q", got)
	}
	c := m.Job.Spec.Template.Spec.Containers[0]
	if len(c.Env) != 1 || c.Env[0].Name != "LOADPLAN_VAR_token" || c.Env[0].ValueFrom.SecretKeyRef.Name != m.Secret.Name ||
		c.Env[0].ValueFrom.SecretKeyRef.Key != "token" {
		t.Errorf("env %+v", c.Env)
	}
	for _, a := range c.Args {
		if strings.Contains(a, "token") {
			t.Errorf("argument %q names the sensitive variable", a)
		}
	}
}

func TestKubernetesRefusesWhatTheAPIWould(t *testing.T) {
	for name, change := range map[string]func(*Fleet){
		"no segments":      func(f *Fleet) { f.Segments = 0 },
		"upper-case name":  func(f *Fleet) { f.Name = "Stress" },
		"long name":        func(f *Fleet) { f.Name = strings.Repeat("a", 60) },
		"bad namespace":    func(f *Fleet) { f.Namespace = "a_b" },
		"too much data":    func(f *Fleet) { f.Files = append(f.Files, File{Path: "big.csv", Data: make([]byte, maxConfigMap)}) },
		"var clear+secret": func(f *Fleet) { f.Vars["token"] = "x" },
	} {
		f := testFleet()
		change(&f)
		if out, err := Kubernetes(f); err == nil {
			t.Errorf("%s: no error, output %d bytes", name, len(out))
		}
	}
}

func TestConfigMapKeysAreUnique(t *testing.T) {
	used := map[string]bool{}
	got := []string{configMapKey("a/b.csv", used), configMapKey("a_b.csv", used), configMapKey("a b.csv", used)}
	if !slices.Equal(got, []string{"a_b.csv", "a_b.csv.2", "a_b.csv.3"}) {
		t.Errorf("keys %v", got)
	}
}

// TestStrictDecodingRejectsAMisspeltField keeps the decoding above honest: the same Job with
// one field misspelt does not decode.
func TestStrictDecodingRejectsAMisspeltField(t *testing.T) {
	out, err := Kubernetes(testFleet())
	if err != nil {
		t.Fatal(err)
	}
	docs := bytes.Split(out, []byte("\n---\n"))
	job := docs[len(docs)-1]
	var j batchv1.Job
	if err := yaml.UnmarshalStrict(job, &j); err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(job, []byte("subdomain:"), []byte("subdomian:"), 1)
	if err := yaml.UnmarshalStrict(bad, &j); err == nil || !strings.Contains(err.Error(), "subdomian") {
		t.Errorf("a misspelt field decoded: %v", err)
	}
}
