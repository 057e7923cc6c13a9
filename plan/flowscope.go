package plan

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Where a capture lives depends on where it is made (issue 12): a capture of setup or teardown
// lives for the VU's life and is read as vu.NAME; any other lives for one iteration and is read
// as capture.NAME by the later steps of the same list — the scenario's steps, or one task, since
// an iteration runs one task. The checks below say which of these a wrong reference broke, and
// how to fix it, from a map of every capture the scenario makes, built from the syntax before
// its steps are decoded.

// The regions of a scenario a capture may be made in; a task's is `task "name"`.
const (
	regionSteps    = "the scenario's steps"
	regionSetup    = "setup"
	regionTeardown = "teardown"
)

// captureMap lists, for each capture name of a scenario, the regions that make it.
type captureMap struct {
	regions map[string][]string
}

// has says whether a capture called name is made in region.
func (m *captureMap) has(name, region string) bool {
	if m == nil {
		return false
	}
	for _, r := range m.regions[name] {
		if r == region {
			return true
		}
	}
	return false
}

// names lists every capture name of the scenario.
func (m *captureMap) names() []string {
	if m == nil {
		return nil
	}
	return sortedKeys(m.regions)
}

// scenarioCaptures maps the captures of a scenario body by region.
func scenarioCaptures(body hcl.Body) *captureMap {
	m := &captureMap{regions: map[string][]string{}}
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		return m
	}
	for _, blk := range sb.Blocks {
		region := regionSteps
		switch blk.Type {
		case "setup", "teardown":
			region = blk.Type
		case "task":
			if len(blk.Labels) != 1 {
				continue
			}
			region = taskRegion(blk.Labels[0])
		}
		names := captureNames(blk.Body)
		if blk.Type == "capture" && len(blk.Labels) == 1 {
			names = append(names, blk.Labels[0])
		}
		for _, n := range names {
			if !m.has(n, region) {
				m.regions[n] = append(m.regions[n], region)
			}
		}
	}
	return m
}

func taskRegion(name string) string { return fmt.Sprintf("task %q", name) }

// checkCaptureRef checks capture.NAME at sc.
func (l *loader) checkCaptureRef(tr hcl.Traversal, name string, hasName bool, sc *scope, ok *bool) {
	fail := func(summary, detail string, args ...any) {
		l.errorAt(tr.SourceRange(), summary, detail, args...)
		*ok = false
	}
	switch {
	case !hasName || len(tr) != 2:
		fail("Invalid capture reference", "Write capture.NAME, where NAME is the label of a capture block of an earlier step.")
	case sc.captures[name]:
	case sc.lifecycle() && (sc.flow.has(name, regionSetup) || sc.flow.has(name, regionTeardown)):
		fail("Per-iteration capture in "+sc.region,
			"A capture made in setup or teardown lives for the VU's life and is read as vu.%s, not capture.%s. Write vu.%s.", name, name, name)
	case sc.lifecycle():
		fail("Per-iteration capture in "+sc.region,
			"%s runs outside the VU's iterations, so capture.%s, a value of one iteration, does not exist here. "+
				"Capture it in setup { } instead and read it as vu.%s.", sc.region, name, name)
	case sc.flow.has(name, sc.region):
		fail("Capture used before it is defined",
			"capture.%s is defined by a later step of this scenario, so it has no value yet here. Move the step that captures %q before this one.", name, name)
	case sc.flow.has(name, regionSetup):
		fail("Setup capture read as capture."+name,
			"%q is captured in setup, so it lives for the VU's life and is read as vu.%s. Write vu.%s.", name, name, name)
	case len(sc.flow.regions[name]) > 0:
		other := sc.flow.regions[name][0]
		fail("Capture made where this step cannot see it",
			"capture.%s is made in %s, and a capture lives for one iteration of the list of steps that makes it; an iteration runs one task, "+
				"so %s never sees it. Capture it in this task too, or once per VU in setup { } and read it as vu.%s.", name, other, sc.region, name)
	default:
		known := sc.flow.names()
		for k := range sc.captures {
			if !sc.flow.has(k, sc.region) {
				known = append(known, k)
			}
		}
		sort.Strings(known)
		fail("Reference to undefined capture",
			"No step of this scenario captures %q.%s Add capture %q { json = \"...\" } to an earlier step.",
			name, didYouMean(name, known), name)
	}
}

// checkVURef checks vu.id and vu.NAME at sc.
func (l *loader) checkVURef(tr hcl.Traversal, name string, hasName bool, sc *scope, ok *bool) {
	fail := func(summary, detail string, args ...any) {
		l.errorAt(tr.SourceRange(), summary, detail, args...)
		*ok = false
	}
	switch {
	case !hasName || len(tr) != 2:
		fail("Invalid vu reference", "Write vu.id (the virtual user's number, from 1) or vu.NAME (a capture made in setup).")
	case name == "id", sc.vuCaps[name]:
	case sc.region == regionSetup && sc.flow.has(name, regionSetup),
		sc.region == regionTeardown && sc.flow.has(name, regionTeardown):
		fail("Capture used before it is defined",
			"vu.%s is captured by a later step of %s, so it has no value yet here. Move the step that captures %q before this one.", name, sc.region, name)
	case sc.flow.has(name, regionSetup):
		*ok = false // the setup step that captures it failed to decode; that is reported there
	case sc.flow.has(name, regionTeardown):
		fail("Teardown capture used before teardown",
			"vu.%s is captured in teardown, which runs after the VU's last iteration, so it has no value here. Capture it in setup { } instead.", name)
	case len(sc.flow.regions[name]) > 0:
		fail("Per-iteration capture read as vu."+name,
			"vu.%s reads a capture made in setup, but %q is captured in %s, once per iteration. Read it there as capture.%s, "+
				"or move that step into setup { } to capture it once per VU.", name, name, sc.flow.regions[name][0], name)
	default:
		known := append([]string{"id"}, sortedKeys(sc.vuCaps)...)
		fail("Reference to undefined VU value",
			"The vu namespace has vu.id and the captures made in setup; no setup step captures %q.%s "+
				"Add capture %q { json = \"...\" } to a step in setup { } to capture it once per VU.", name, didYouMean(name, known), name)
	}
}
