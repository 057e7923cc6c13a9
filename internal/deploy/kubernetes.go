package deploy

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"
)

// maxConfigMap is the most a ConfigMap may hold (etcd's object limit is 1 MiB; keep room for
// the metadata).
const maxConfigMap = 1000 * 1000

// The manifest types carry only the fields the generator writes, under the API's JSON names.
// The tests decode the output strictly into k8s.io/api types, which catches a wrong name.
type (
	meta struct {
		Name        string            `json:"name,omitempty"`
		Namespace   string            `json:"namespace,omitempty"`
		Labels      map[string]string `json:"labels,omitempty"`
		Annotations map[string]string `json:"annotations,omitempty"`
	}
	object struct {
		APIVersion string            `json:"apiVersion"`
		Kind       string            `json:"kind"`
		Metadata   meta              `json:"metadata"`
		Type       string            `json:"type,omitempty"`
		Data       map[string]string `json:"data,omitempty"`
		BinaryData map[string][]byte `json:"binaryData,omitempty"`
		Spec       any               `json:"spec,omitempty"`
	}
	// secret's data is bytes: JSON, and so YAML, writes them in base64, as the API reads them.
	secret struct {
		APIVersion string            `json:"apiVersion"`
		Kind       string            `json:"kind"`
		Metadata   meta              `json:"metadata"`
		Type       string            `json:"type"`
		Data       map[string][]byte `json:"data"`
	}
	servicePort struct {
		Name       string `json:"name"`
		Port       int    `json:"port"`
		TargetPort int    `json:"targetPort"`
		Protocol   string `json:"protocol"`
	}
	serviceSpec struct {
		ClusterIP                string            `json:"clusterIP"`
		Selector                 map[string]string `json:"selector"`
		PublishNotReadyAddresses bool              `json:"publishNotReadyAddresses"`
		Ports                    []servicePort     `json:"ports"`
	}
	exitCodes struct {
		ContainerName string  `json:"containerName"`
		Operator      string  `json:"operator"`
		Values        []int32 `json:"values"`
	}
	failureRule struct {
		Action      string    `json:"action"`
		OnExitCodes exitCodes `json:"onExitCodes"`
	}
	jobSpec struct {
		CompletionMode   string                   `json:"completionMode"`
		Completions      int                      `json:"completions"`
		Parallelism      int                      `json:"parallelism"`
		BackoffLimit     int                      `json:"backoffLimit"`
		ActiveDeadline   int64                    `json:"activeDeadlineSeconds,omitempty"`
		PodFailurePolicy map[string][]failureRule `json:"podFailurePolicy"`
		Template         podTemplate              `json:"template"`
	}
	podTemplate struct {
		Metadata meta    `json:"metadata"`
		Spec     podSpec `json:"spec"`
	}
	podSpec struct {
		RestartPolicy string      `json:"restartPolicy"`
		Subdomain     string      `json:"subdomain"`
		Containers    []container `json:"containers"`
		Volumes       []volume    `json:"volumes"`
	}
	container struct {
		Name            string          `json:"name"`
		Image           string          `json:"image"`
		ImagePullPolicy string          `json:"imagePullPolicy"`
		Args            []string        `json:"args"`
		Env             []envVar        `json:"env,omitempty"`
		EnvFrom         []envFrom       `json:"envFrom,omitempty"`
		Ports           []containerPort `json:"ports"`
		Resources       resources       `json:"resources"`
		VolumeMounts    []volumeMount   `json:"volumeMounts"`
		SecurityContext securityContext `json:"securityContext"`
	}
	// securityContext is what the "restricted" Pod Security Standard asks of a container; the
	// image runs as user 65532 and needs no privilege, so the pods start in such namespaces.
	securityContext struct {
		RunAsNonRoot             bool `json:"runAsNonRoot"`
		AllowPrivilegeEscalation bool `json:"allowPrivilegeEscalation"`
		Capabilities             struct {
			Drop []string `json:"drop"`
		} `json:"capabilities"`
		SeccompProfile struct {
			Type string `json:"type"`
		} `json:"seccompProfile"`
	}
	envVar struct {
		Name      string `json:"name"`
		ValueFrom struct {
			SecretKeyRef keyRef `json:"secretKeyRef"`
		} `json:"valueFrom"`
	}
	keyRef struct {
		Name string `json:"name"`
		Key  string `json:"key"`
	}
	envFrom struct {
		SecretRef struct {
			Name string `json:"name"`
		} `json:"secretRef"`
	}
	containerPort struct {
		Name          string `json:"name"`
		ContainerPort int    `json:"containerPort"`
		Protocol      string `json:"protocol"`
	}
	resources struct {
		Requests map[string]string `json:"requests"`
		Limits   map[string]string `json:"limits"`
	}
	volumeMount struct {
		Name      string `json:"name"`
		MountPath string `json:"mountPath"`
		ReadOnly  bool   `json:"readOnly"`
	}
	keyToPath struct {
		Key  string `json:"key"`
		Path string `json:"path"`
	}
	volume struct {
		Name      string `json:"name"`
		ConfigMap struct {
			Name  string      `json:"name"`
			Items []keyToPath `json:"items"`
		} `json:"configMap"`
	}
)

// Kubernetes returns the manifests that run f as an Indexed Job: a Secret (only when there are
// sensitive variables), the ConfigMap with the plan and its files, the headless Service through
// which the segments find segment 1 (pod NAME-0 is NAME-0.NAME) and Prometheus finds the pods, and
// the Job.
func Kubernetes(f Fleet) ([]byte, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	labels := map[string]string{"app.kubernetes.io/name": "loadplan", "app.kubernetes.io/instance": f.Name}
	md := func(name string) meta { return meta{Name: name, Namespace: f.Namespace, Labels: labels} }

	cm := object{APIVersion: "v1", Kind: "ConfigMap", Metadata: md(f.Name), Data: map[string]string{}}
	vol := volume{Name: "plan"}
	vol.ConfigMap.Name = f.Name
	size := 0
	used := map[string]bool{}
	for _, file := range f.Files {
		key := configMapKey(file.Path, used)
		size += len(key) + len(file.Data)
		if utf8.Valid(file.Data) {
			cm.Data[key] = string(file.Data)
		} else {
			if cm.BinaryData == nil {
				cm.BinaryData = map[string][]byte{}
			}
			cm.BinaryData[key] = file.Data
		}
		vol.ConfigMap.Items = append(vol.ConfigMap.Items, keyToPath{Key: key, Path: file.Path})
	}
	if size > maxConfigMap {
		return nil, fmt.Errorf("the plan and its data files take %d bytes, more than a ConfigMap holds (%d): "+
			"bake the data into the image (FROM loadplan, COPY) or mount a volume at %s", size, maxConfigMap, PlanDir)
	}

	port, rdv := f.metricsPort(), f.rendezvousPort()
	svc := object{APIVersion: "v1", Kind: "Service", Metadata: md(f.Name), Spec: serviceSpec{
		ClusterIP: "None", Selector: labels, PublishNotReadyAddresses: true,
		Ports: []servicePort{
			{Name: "rendezvous", Port: rdv, TargetPort: rdv, Protocol: "TCP"},
			{Name: "metrics", Port: port, TargetPort: port, Protocol: "TCP"},
		},
	}}

	mi := mebibytes(f.MemoryRequest)
	c := container{
		Name: ContainerName, Image: f.Image, ImagePullPolicy: "IfNotPresent",
		Args: f.applyArgs("--rendezvous", f.Name+"-0."+f.Name+":"+strconv.Itoa(rdv)),
		Ports: []containerPort{
			{Name: "rendezvous", ContainerPort: rdv, Protocol: "TCP"},
			{Name: "metrics", ContainerPort: port, Protocol: "TCP"},
		},
		Resources: resources{
			Requests: map[string]string{"cpu": strconv.FormatInt(max(f.CPURequest, 100), 10) + "m", "memory": strconv.FormatInt(mi, 10) + "Mi"},
			Limits:   map[string]string{"memory": strconv.FormatInt(2*mi, 10) + "Mi"},
		},
		VolumeMounts: []volumeMount{{Name: "plan", MountPath: PlanDir, ReadOnly: true}},
	}
	c.SecurityContext.RunAsNonRoot = true
	c.SecurityContext.Capabilities.Drop = []string{"ALL"}
	c.SecurityContext.SeccompProfile.Type = "RuntimeDefault"
	secretName := f.Name + "-vars"
	for _, name := range sortedKeys(f.SecretVars) {
		e := envVar{Name: EnvVarPrefix + name}
		e.ValueFrom.SecretKeyRef = keyRef{Name: secretName, Key: name}
		c.Env = append(c.Env, e)
	}
	for _, s := range f.EnvFrom {
		var e envFrom
		e.SecretRef.Name = s
		c.EnvFrom = append(c.EnvFrom, e)
	}
	podMeta := meta{Labels: labels, Annotations: map[string]string{
		"prometheus.io/scrape": "true", "prometheus.io/port": strconv.Itoa(port), "prometheus.io/path": "/metrics",
	}}
	job := object{APIVersion: "batch/v1", Kind: "Job", Metadata: md(f.Name), Spec: jobSpec{
		CompletionMode: "Indexed", Completions: f.Segments, Parallelism: f.Segments, BackoffLimit: 0,
		ActiveDeadline: int64((f.Deadline + time.Second - 1) / time.Second),
		PodFailurePolicy: map[string][]failureRule{"rules": {{Action: "FailJob",
			OnExitCodes: exitCodes{ContainerName: ContainerName, Operator: "In", Values: FailExitCodes}}}},
		Template: podTemplate{Metadata: podMeta, Spec: podSpec{
			RestartPolicy: "Never", Subdomain: f.Name, Containers: []container{c}, Volumes: []volume{vol},
		}},
	}}

	docs := []any{cm, svc, job}
	if len(f.SecretVars) > 0 {
		// data, not stringData: the values are base64 like any Secret's, and reach the pod as
		// LOADPLAN_VAR_name, never as an argument that `kubectl describe` shows.
		sec := secret{APIVersion: "v1", Kind: "Secret", Metadata: md(secretName), Type: "Opaque", Data: map[string][]byte{}}
		for k, v := range f.SecretVars {
			sec.Data[k] = []byte(v)
		}
		docs = append([]any{sec}, docs...)
	}
	header := comment(
		fmt.Sprintf("loadplan: %s as %d segments (Indexed Job %s). Apply: kubectl apply -f this.yaml", f.Plans[0], f.Segments, f.Name),
		fmt.Sprintf("Wait:    kubectl wait --for=condition=complete job/%s (a segment exits 99 when abort_on_fail stops it: that fails the Job)", f.Name),
		fmt.Sprintf("Verdict: kubectl logs -l job-name=%s --tail=-1 | loadplan merge --plan PLAN -   (the fleet's thresholds)", f.Name),
		fmt.Sprintf("Sized per segment: memory request %s (peak VUs x 25 KB + WebSocket sessions x 50 KB + 32 MB), limit twice that.", strconv.FormatInt(mi, 10)+"Mi"),
	)
	return documents(header, docs...)
}

var keyChars = regexp.MustCompile(`[^-._a-zA-Z0-9]`)

// configMapKey turns a relative path into a ConfigMap key (letters, digits, '-', '_', '.'),
// unique among used: the volume's items put each key back at its path.
func configMapKey(p string, used map[string]bool) string {
	base := keyChars.ReplaceAllString(p, "_")
	key := base
	for i := 2; used[key]; i++ {
		key = base + "." + strconv.Itoa(i)
	}
	used[key] = true
	return key
}

// mebibytes returns bytes in MiB, rounded up.
func mebibytes(b int64) int64 {
	return (max(b, 1) + (1 << 20) - 1) >> 20
}
