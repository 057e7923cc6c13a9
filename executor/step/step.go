// Package step is the seam between the executor, which schedules iterations and VUs, and the
// step kinds it runs (executor/httpstep, executor/wsstep): one compiled-step interface, the
// VU-side API a step runs with, and what the kinds share (targets, connection failure causes,
// captures from a body).
//
// A step kind is compiled once per run (Kind.Compile, from its plan.Step and an Env), then run
// once per iteration by each VU (Step.Run) with the VU's per-iteration API (VU) and the kind's
// per-VU state (State: clients, connections, sessions that outlive an iteration). It reports
// what it did as samples through VU.Emit; a returned error ends the iteration.
//
// A new step kind is one new package that exports a Kind, plus its line in the executor's
// registry (executor/compile.go); the executor knows nothing else about it.
package step

import (
	"context"
	"crypto/tls"
	"errors"
	"math/rand/v2"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/loadplan/loadplan/internal/jsonpath"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// Kind is one step kind as the executor's registry holds it.
type Kind struct {
	// Compile builds the step from its plan step, once per run, before any VU starts. Its
	// errors are user-facing ("no url", a URL that does not parse).
	Compile func(s *plan.Step, env *Env) (Compiled, error)
	// NewState makes the kind's state for one VU, when the VU is created; nil when the kind
	// keeps none (Run then gets a nil State). targets is the run's compiled targets by index,
	// complete at that point (TLS configurations included).
	NewState func(vu VU, targets []*Target) State
}

// Compiled is a compiled step and what the executor needs to schedule it.
type Compiled struct {
	Step Step
	// Tags are the tags of the `errors` sample when Run's error ends the iteration; nil means
	// the scenario's.
	Tags *metrics.Tags
	// Think, when set, replaces the scenario's think time after this step.
	Think *plan.ThinkTime
}

// Step is one compiled plan step. A Step is immutable after Compile and shared by every VU:
// whatever a VU needs to keep lives in its State.
type Step interface {
	// Run runs the step once for the VU's current iteration, on the VU's goroutine. ctx is the
	// VU's hard context: when it ends, Run returns promptly (the executor then counts the
	// iteration as interrupted). state is what the kind's NewState made for this VU.
	//
	// A failure the step already counted as a sample of its own returns an *Error with Reported
	// set; any other error becomes one `errors` sample labelled with its text. A failed request
	// is data in its samples, not an error: Run returns nil and the iteration goes on.
	Run(ctx context.Context, vu VU, state State) error
}

// State is a step kind's per-VU state: clients, cookie jars, persistent sessions. It is owned
// by the VU goroutine. The VU keeps it from its creation to the end of the run; an activation
// (a VU ramped up, or running one open-model iteration stream) is bracketed by Begin and End.
type State interface {
	// Begin starts an activation: hard is the context that aborts the activation's in-flight
	// work.
	Begin(hard context.Context)
	// End ends the activation: close the sessions and idle connections a user leaving would.
	End()
}

// VU is the VU-side API a step runs with, implemented by the executor's VU. Every method is
// called on the VU's goroutine only; none allocates per call (the per-request path stays
// allocation-free: executor/alloc_test.go).
type VU interface {
	// Runtime holds the iteration's values: vu, iter, data rows, captures (steps write
	// captures into it).
	Runtime() *plan.Runtime
	// Rand is the VU's own random source.
	Rand() *rand.Rand
	// Stopping is closed when the VU must start no new iteration (graceful stop, ramp-down):
	// waits within a step end early so that the iteration finishes promptly.
	Stopping() <-chan struct{}
	// Emit records one sample. Samples are batched per VU; Emit never blocks on the network.
	Emit(s metrics.Sample)
	// TakeLag returns the open-model iteration's schedule lag, once: its first request adds it
	// to its latency (coordinated omission), then it is 0.
	TakeLag() time.Duration
	// ConnResult reports one connection attempt to target index t (Env.Targets.Index) for the
	// VU's connection backoff and the target's reachability: reached says the target answered
	// (even with a refusal), cause (one of ConnCauses, or another short text) that the attempt
	// failed and the VU backs off; a success has reached set and no cause.
	ConnResult(t int, reached bool, cause string)
	// Trace is the VU's trace context (trace.go): the current iteration's trace, for the trace
	// headers of steps with a TraceConf; nil when no request of the run is traced.
	Trace() *Trace
}

// Env is what a step compiles with: its scenario and the run's targets.
type Env struct {
	Scenario string
	Tags     *metrics.Tags // the scenario's tags, for samples not tied to one request
	Targets  Targets
	Debug    HTTPDebugger // --http-debug: sees every HTTP exchange; nil for none (debug.go)
	// Tracing is the plan's tracing block (nil: none); a step's target may override it
	// (plan.EffectiveTracing, CompileTrace). Run is the run's name for the baggage header.
	Tracing *plan.Tracing
	Run     string
}

// Targets is the run's compiled targets, shared by every step; used while compiling only.
type Targets interface {
	// Index returns the index of t's compiled configuration, registering it on first use; nil
	// (a step with its own URL) is index 0.
	Index(t *plan.Target) int
	// Target returns the configuration of index i. Its TLS is built after every step compiled:
	// read it when VUs run.
	Target(i int) *Target
	// AddHost records a URL's host:port, for the executor's preflight dial.
	AddHost(rawURL string)
}

// Error ends an iteration with an `errors` sample labelled Label, unless Reported: the failure
// is already a sample of its own (a failed request's errors sample, a WebSocket failure's
// ws_errors sample), and one failure is one sample.
type Error struct {
	Label    string
	Reported bool
}

func (e *Error) Error() string { return e.Label }

// Millis converts a duration to the milliseconds a Time sample holds.
func Millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Target is a plan target with its TLS configuration built once and shared by every VU.
type Target struct {
	Plan    *plan.Target // nil for index 0: steps with their own URL
	TLS     *tls.Config  // nil for the system defaults
	Timeout time.Duration
	// ProxyEnv is the run's proxy environment, read by index 0 (steps with their own URL).
	ProxyEnv plan.ProxyEnv
}

// ConnCauses are the causes ConnCause reports a connection failure with; the executor keeps a
// target's last cause as an index in it.
var ConnCauses = []string{"connection failed", "connection refused", "dns", "connect timeout",
	"network unreachable", "too many open files", "tls handshake"}

// ConnCause classifies err as a failure to connect (the request never reached the server) and
// names its cause; ok is false for errors after a connection was made.
func ConnCause(err error) (cause string, ok bool) {
	var dnsErr *net.DNSError
	var op *net.OpError
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	var alert tls.AlertError
	switch {
	case errors.As(err, &dnsErr):
		return "dns", true
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "too many open files", true
	case errors.As(err, &certErr), errors.As(err, &recErr), errors.As(err, &alert),
		strings.Contains(err.Error(), "TLS handshake timeout"):
		return "tls handshake", true
	case !errors.As(err, &op) || op.Op != "dial":
		return "", false
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused", true
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "network unreachable", true
	case op.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return "connect timeout", true
	}
	return "connection failed", true
}

// Capture extracts a json or regex capture from a body (an HTTP response, a WebSocket frame);
// doc caches the body's JSON. A JSON null, like a missing path, captures nothing. Other kinds
// (header, cookie) return false: they are the HTTP step's own.
func Capture(c *plan.Capture, body []byte, doc *jsonpath.Doc) (string, bool) {
	switch c.Kind {
	case plan.CaptureJSON:
		root, ok := doc.Get(body)
		if !ok {
			return "", false
		}
		v, ok := jsonpath.Lookup(root, c.Path)
		if !ok || v == nil {
			return "", false
		}
		return jsonpath.Text(v), true
	case plan.CaptureRegex:
		if c.Regexp == nil {
			return "", false
		}
		m := c.Regexp.FindSubmatch(body)
		if m == nil {
			return "", false
		}
		if len(m) > 1 {
			return string(m[1]), true
		}
		return string(m[0]), true
	}
	return "", false
}
