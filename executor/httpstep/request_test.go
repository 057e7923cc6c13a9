package httpstep

import (
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/loadplan/loadplan/executor/step"
	"github.com/loadplan/loadplan/plan"
)

// fakeTargets is step.Targets over a list, recording the hosts it is given.
type fakeTargets struct {
	list  []*step.Target
	hosts []string
}

func (f *fakeTargets) Index(t *plan.Target) int {
	if t == nil {
		return 0
	}
	for i, x := range f.list {
		if x.Plan == t {
			return i
		}
	}
	f.list = append(f.list, &step.Target{Plan: t, Timeout: t.Timeout})
	return len(f.list) - 1
}

func (f *fakeTargets) Target(i int) *step.Target { return f.list[i] }
func (f *fakeTargets) AddHost(raw string)        { f.hosts = append(f.hosts, raw) }

// TestCompileFoldsConstants: a constant URL, query, headers and body are built once, the
// target's headers overridden by the step's by canonical name, the JSON content type added, the
// target's timeout inherited and its host recorded for the preflight dial.
func TestCompileFoldsConstants(t *testing.T) {
	api := &plan.Target{Name: "api", BaseURL: "http://127.0.0.1:9", Timeout: 7 * time.Second,
		Headers: []plan.KV{{Name: "x-token", Value: plan.Literal("target")}, {Name: "Accept", Value: plan.Literal("*/*")}}}
	ts := &fakeTargets{list: []*step.Target{{Timeout: time.Minute}}}
	ps := &plan.HTTPStep{Name: "login", Method: "POST", Target: api, URL: plan.Literal("http://127.0.0.1:9/login"),
		Query:   []plan.KV{{Name: "a b", Value: plan.Literal("c&d")}},
		Headers: []plan.KV{{Name: "X-Token", Value: plan.Literal("step")}},
		JSON:    plan.Literal(`{"user":"u1"}`)}
	c, err := compile(&plan.Step{Kind: plan.HTTPStepKind, HTTP: ps}, &step.Env{Scenario: "s", Targets: ts})
	if err != nil {
		t.Fatal(err)
	}
	hs := c.Step.(*httpStep)
	if got := hs.urlConst.String(); got != "http://127.0.0.1:9/login?a+b=c%26d" {
		t.Errorf("url %q", got)
	}
	if got := hs.constHdr.Get("X-Token"); got != "step" || len(hs.constHdr["X-Token"]) != 1 {
		t.Errorf("X-Token %q (%d values), want the step's value only", got, len(hs.constHdr["X-Token"]))
	}
	if hs.constHdr.Get("Accept") != "*/*" || hs.constHdr.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", hs.constHdr)
	}
	if hs.timeout != 7*time.Second || hs.target != 1 || string(hs.bodyConst) == "" {
		t.Errorf("timeout %s, target %d, body %q", hs.timeout, hs.target, hs.bodyConst)
	}
	if c.Tags != hs.tags || hs.tags.Scenario != "s" || hs.tags.Step != "login" || hs.tags.Target != "api" {
		t.Errorf("tags %+v", hs.tags)
	}
	if len(ts.hosts) != 1 || ts.hosts[0] != "http://127.0.0.1:9/login" {
		t.Errorf("hosts %v", ts.hosts)
	}

	_, err = compile(&plan.Step{Kind: plan.HTTPStepKind, HTTP: &plan.HTTPStep{Name: "nothing"}}, &step.Env{Targets: ts})
	if err == nil || !strings.Contains(err.Error(), "http nothing: no url") {
		t.Errorf("no url: %v", err)
	}
}

// TestErrorKindTooManyOpenFiles: fd exhaustion, in the process or the system, is named.
func TestErrorKindTooManyOpenFiles(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE} {
		err := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("socket", errno)}
		if k := errorKind(err, nil); k != "too many open files" {
			t.Errorf("%v: kind %q, want too many open files", err, k)
		}
	}
}
