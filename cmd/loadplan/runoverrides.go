package main

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/loadplan/loadplan/plan"
)

// This file applies the overrides of runFlags that need the plan: --host (before the load, as a
// variable), --scenario and --tag selection and the --spawn-rate ramp (after it). plan and apply
// both call them, so that `loadplan plan` shows what `loadplan apply` runs.

// setHost turns --host into -var host=URL after checking that the URL is one and that the plan
// declares the variable, so that the error names --host and says what to add.
func (r *runFlags) setHost() error {
	if r.host == "" {
		return nil
	}
	u, err := url.Parse(r.host)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "ws" && u.Scheme != "wss") {
		return fmt.Errorf("--host %q: write a base URL with its scheme, e.g. --host http://127.0.0.1:8000", r.host)
	}
	if _, set := r.vars.vars["host"]; set {
		return fmt.Errorf("--host and -var host=... both set var.host: give one")
	}
	if declared, ok := plan.DeclaresVariable(r.paths, "host"); ok && !declared {
		return fmt.Errorf("--host sets var.host, and the plan declares no variable \"host\": add\n" +
			"  variable \"host\" {\n    default = \"http://127.0.0.1:8000\"\n  }\n" +
			"and write base_url = var.host in its target block (or set another variable with -var NAME=URL)")
	}
	r.vars.vars["host"] = r.host
	return nil
}

// overrides applies the selection and the spawn ramp to a loaded plan: it returns the scenarios
// to run (nil for all) and rewrites the selected scenarios' loads for --spawn-rate.
func (r *runFlags) overrides(p *plan.Plan) ([]string, error) {
	names, err := selectScenarios(p, r.scenarios, r.tags)
	if err != nil {
		return nil, err
	}
	if r.spawnRate > 0 {
		if r.k6.iterations > 0 {
			return nil, fmt.Errorf("--spawn-rate ramps VUs for a time, --iterations runs a count: give one")
		}
		if err := p.SpawnUsers(names, r.vus, r.spawnRate, r.duration); err != nil {
			return nil, err
		}
	}
	if r.duration, err = r.k6.applyPlanOverrides(p, names, r.vus, r.duration); err != nil { // k6flags.go
		return nil, err
	}
	return names, nil
}

// selectScenarios returns, in plan order, the scenarios named by --scenario or carrying a --tag
// (a scenario is run when either selects it, as Locust's --tags runs tasks with any of the tags),
// or nil when neither flag is given. An unknown name, or a tag no scenario has, is an error that
// lists what the plan has.
func selectScenarios(p *plan.Plan, names, tags []string) ([]string, error) {
	if len(names) == 0 && len(tags) == 0 {
		return nil, nil
	}
	var have []string
	for _, sc := range p.Scenarios {
		have = append(have, sc.Name)
	}
	pick := map[string]bool{}
	for _, n := range names {
		found := false
		for _, h := range have {
			found = found || h == n
		}
		if !found {
			return nil, fmt.Errorf("--scenario %q: the plan has no such scenario; it has %s", n, strings.Join(have, ", "))
		}
		pick[n] = true
	}
	for _, tag := range tags {
		key, value, withValue := strings.Cut(tag, "=")
		found := false
		for _, sc := range p.Scenarios {
			v, ok := sc.Tags[key]
			if ok && (!withValue || v == value) {
				pick[sc.Name], found = true, true
			}
		}
		if !found {
			return nil, fmt.Errorf("--tag %q: no scenario has this tag (loadplan's --tag selects scenarios; k6's, which tags every metric, has no equivalent); %s", tag, planTags(p))
		}
	}
	var out []string
	for _, h := range have {
		if pick[h] {
			out = append(out, h)
		}
	}
	return out, nil
}

// planTags lists the scenarios' tags for selectScenarios' error.
func planTags(p *plan.Plan) string {
	seen := map[string]bool{}
	var all []string
	for _, sc := range p.Scenarios {
		for k, v := range sc.Tags {
			if kv := k + "=" + v; !seen[kv] {
				seen[kv] = true
				all = append(all, kv)
			}
		}
	}
	if len(all) == 0 {
		return "the plan's scenarios have no tags (add tags = { NAME = \"VALUE\" } to a scenario, or select with --scenario NAME)"
	}
	sort.Strings(all)
	return "the scenarios' tags are " + strings.Join(all, ", ")
}

// spawnNote says in words what --vus N --spawn-rate R does, for `plan` and apply's start message;
// "" without --spawn-rate.
func (r *runFlags) spawnNote() string {
	if r.spawnRate <= 0 {
		return ""
	}
	until := "until Ctrl-C (no --duration; Locust without --run-time)"
	if r.duration > 0 {
		until = "until " + r.duration.String()
	}
	ramp := plan.SpawnRamp(r.vus, r.spawnRate)
	return fmt.Sprintf("--vus %d --spawn-rate %g: ramp at %g VUs/s to %d VUs (1 at once, all %d by %s), then hold them %s",
		r.vus, r.spawnRate, r.spawnRate, r.vus, r.vus, ramp.Round(time.Millisecond), until)
}
