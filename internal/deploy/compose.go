package deploy

import (
	"fmt"
	"strconv"
)

// DefaultService is the compose service the override changes: the repository's
// docker-compose.yml calls it loadplan.
const DefaultService = "loadplan"

type (
	composeFile struct {
		Services map[string]composeService `json:"services"`
		Volumes  map[string]composeVolume  `json:"volumes"`
	}
	composeService struct {
		Image       string   `json:"image,omitempty"`
		Command     []string `json:"command"`
		Environment []string `json:"environment,omitempty"`
		Volumes     []string `json:"volumes"`
		Scale       int      `json:"scale"`
		Restart     string   `json:"restart"`
	}
	composeVolume struct {
		DriverOpts map[string]string `json:"driver_opts"`
	}
)

// Compose returns a docker compose override that runs f as f.Segments replicas of the service
// (default loadplan), each claiming its segment in a shared folder. The folder is a tmpfs
// volume: Docker mounts it once for every container on the host and drops its content when the
// last one stops, so each `up` starts with no claims. Sensitive variables are passed through by
// name from the shell that runs compose, never written in the file.
func Compose(f Fleet) ([]byte, error) {
	if f.Name == "" {
		f.Name = "loadplan"
	}
	if f.Image == "" {
		f.Image = "-" // the base file's image or build; check wants one
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	name := f.Service
	if name == "" {
		name = DefaultService
	}
	s := composeService{
		Command: f.applyArgs("--segment-claim", ClaimDir),
		Volumes: []string{"claims:" + ClaimDir},
		Scale:   f.Segments, Restart: "no",
	}
	if f.Image != "-" {
		s.Image = f.Image
	}
	if f.HostDir != "" {
		s.Volumes = append(s.Volumes, f.HostDir+":"+PlanDir+":ro")
	} else {
		// The plan is one of the image's: /plans holds the repository's plans/ folder.
		for i, a := range s.Command {
			if len(a) > len(PlanDir) && a[:len(PlanDir)+1] == PlanDir+"/" {
				s.Command[i] = "/plans" + a[len(PlanDir):]
			}
		}
	}
	for _, v := range sortedKeys(f.SecretVars) {
		s.Environment = append(s.Environment, EnvVarPrefix+v) // the value comes from the shell
	}
	doc := composeFile{
		Services: map[string]composeService{name: s},
		Volumes:  map[string]composeVolume{"claims": {DriverOpts: map[string]string{"type": "tmpfs", "device": "tmpfs"}}},
	}
	n := strconv.Itoa(f.Segments)
	header := comment(
		fmt.Sprintf("loadplan: %s as %s segments, each replica of %s claiming one in %s.", f.Plans[0], n, name, ClaimDir),
		fmt.Sprintf("Run:   docker compose -f docker-compose.yml -f THIS.yml up --abort-on-container-failure %s", name),
		fmt.Sprintf("       (the file sets scale: %s; --scale %s=%s says the same; a segment exiting 99 stops the others)", n, name, n),
		fmt.Sprintf("Merge: docker compose logs --no-log-prefix %s | loadplan merge --plan PLAN -   (its exit code is the fleet's verdict)", name),
	)
	if len(f.SecretVars) > 0 {
		header += comment("Sensitive variables come from the environment of docker compose: export " +
			EnvVarPrefix + sortedKeys(f.SecretVars)[0] + "=... before up.")
	}
	return documents(header, doc)
}
