package plan

import (
	"net/url"
	"regexp"
	"time"

	"github.com/loadplan/loadplan/metrics"
)

// Pos is a source position kept on plan elements for runtime messages. It is plain data so that
// packages other than plan never import HCL.
type Pos struct {
	File   string
	Line   int
	Column int
}

// Plan is a loaded, validated plan: plain data, durations as time.Duration, references resolved to
// pointers. Constant expressions are already folded; what depends on the iteration is a *Template.
type Plan struct {
	// ProxyEnv is the run's proxy environment, for steps whose URL names no target.
	ProxyEnv   ProxyEnv
	Files      []string
	Variables  []*Variable
	Targets    []*Target
	Data       []*Feeder
	Scenarios  []*Scenario
	Load       *Load // plan-level load, shared by scenarios without their own; may be nil
	Thresholds []*Threshold
	Outputs    []*OutputBlock // decoded against the schemas of Options.Outputs
	// Secrets is the text of every secret the plan reads — the values of its sensitive variables
	// from any source (default, LOADPLAN_VAR_name, -var-file, -var) and of the environment
	// variables it reads with env("NAME") — longest first, for masking them where traffic is
	// shown (--http-debug). Never print it.
	Secrets []string
	// Tracing is the plan's `tracing` block: trace context on every request, client spans over
	// OTLP; nil when the plan has none (no header is sent).
	Tracing *Tracing
}

// Tracing is a `tracing` block, at plan level or as a target's override.
type Tracing struct {
	// Propagator is "w3c" (traceparent, tracestate; the default), "b3" (b3 single header) or
	// "none" (a target's override turning tracing off for that target).
	Propagator string
	// Sampling is the share of iterations (traces) whose sampled flag is set, 0..1.
	Sampling float64
	// Baggage lists what goes into the W3C baggage header: any of "run", "scenario", "step";
	// empty sends no baggage header.
	Baggage []string
	// OTLPEndpoint is the OTLP/HTTP traces endpoint client spans are exported to ("" for none),
	// e.g. http://127.0.0.1:4318/v1/traces; OTLPHeaders go with every export (may be secrets).
	OTLPEndpoint string
	OTLPHeaders  []KV
	// OTLPSensitive says OTLPEndpoint came from a secret (env()): use it, never show it.
	OTLPSensitive bool
	Pos           Pos
}

// Variable is a declared input variable and the value it took.
type Variable struct {
	Name        string
	Type        string // "string", "number", "bool", "list(string)", ... as written
	Description string
	Sensitive   bool
	Value       string // rendered value; "(sensitive)" when Sensitive
	Pos         Pos
}

// Target is a server the scenarios send to.
type Target struct {
	Name               string
	BaseURL            string
	Timeout            time.Duration // default 60s
	Headers            []KV          // sent with every request to this target
	InsecureSkipVerify bool
	CAFile             string
	CertFile           string
	KeyFile            string
	// Proxy is the proxy the target's requests go through, nil for none: the proxy attribute,
	// else HTTP_PROXY/HTTPS_PROXY/NO_PROXY for BaseURL, resolved at load. Its user info is a
	// credential: show it with ProxyShown only.
	Proxy *url.URL
	// ProxySensitive says the proxy attribute came from a secret (env()): never shown.
	ProxySensitive bool
	// ProxySet says the proxy attribute chose (a URL or "none"), not the environment.
	ProxySet bool
	// Compression is "gzip" (default: Accept-Encoding: gzip sent, gzip bodies decoded for
	// checks and captures) or "none" (no Accept-Encoding).
	Compression string
	// ExpectedStatus are the inclusive status ranges that do not fail http_req_failed; nil
	// means DefaultExpectedStatus (200-399, k6's expected_response).
	ExpectedStatus [][2]int
	// Tracing is the target's own `tracing` block, overriding the plan's; nil to inherit it.
	Tracing *Tracing
	// Sensitive says BaseURL came from a secret (env()): use it, never show it.
	Sensitive bool
	Pos       Pos
}

// KV is an ordered name/value pair whose value may depend on the iteration.
type KV struct {
	Name  string
	Value *Template
}

// FeederMode is how a CSV feeder hands out rows.
type FeederMode string

const (
	Sequential FeederMode = "sequential" // rows in order, shared by all VUs, wrapping around
	Random     FeederMode = "random"     // a random row each iteration
	Unique     FeederMode = "unique"     // each row once across the run; the scenario stops when they run out
)

// Feeder is a `data` block: a CSV file loaded once and shared by every VU without copying.
type Feeder struct {
	Name   string
	Path   string
	Mode   FeederMode
	Header []string
	Rows   [][]string
	Pos    Pos
}

// Column returns the index of field in Header, or -1.
func (f *Feeder) Column(field string) int {
	for i, h := range f.Header {
		if h == field {
			return i
		}
	}
	return -1
}

// ThinkTime is a pause between steps or iterations: Min when Max == Min, uniform in [Min,Max]
// otherwise. The zero value means no pause.
type ThinkTime struct {
	Min, Max time.Duration
}

// Scenario is a named sequence of steps run by VUs.
//
// A VU of the scenario runs Setup once when it starts, then iterations, then Teardown once when
// it stops. An iteration runs Steps in order or, when the scenario has Tasks, one task drawn by
// weight (a scenario has steps or tasks, never both). See Task, Repeat and Step.When; Walk visits
// every step wherever it is.
type Scenario struct {
	Name      string
	Target    *Target // default target of its steps; may be nil when every step has a url
	Weight    int     // share of the plan-level load's VUs; default 1
	ThinkTime ThinkTime
	Load      *Load   // the scenario's own load; nil means it shares Plan.Load
	Steps     []*Step // in source order; empty when the scenario has Tasks
	// Setup runs once per VU before its first iteration (Locust's on_start), Teardown once when
	// the VU stops, within graceful_stop (on_stop). Their captures live for the VU's life and are
	// read as vu.NAME (Runtime.VUCaptures); they have no capture.NAME and no iter. data.NAME.FIELD
	// in setup reads a row taken for the setup (Feeders lists the feeders setup reads too). A
	// failed setup is retried with backoff before the VU runs an iteration.
	Setup    []*Step
	Teardown []*Step
	// Tasks are the `task "name"` blocks (Locust's @task(weight)), in source order: each
	// iteration runs exactly one, drawn by weight (PickTask) among those whose When holds.
	Tasks []*Task
	// Pacing is the least time from the start of one of a VU's iterations to the start of its
	// next (Locust's constant_pacing); IterationsPerSecond is the same as a per-VU rate
	// (constant_throughput). At most one is set (0 for none); both hold after failed iterations
	// too (IterationInterval gives the interval either way).
	Pacing              time.Duration
	IterationsPerSecond float64
	Feeders             []*Feeder // feeders this scenario references; one row of each is taken per iteration
	Tags                map[string]string
	// MetricTags are the interned tags of the scenario's own samples (iterations, iteration_duration,
	// dropped_iterations, errors): Scenario set, every other field empty.
	MetricTags *metrics.Tags
	Pos        Pos
}

// StepKind says which of Step's pointers is set.
type StepKind uint8

const (
	HTTPStepKind StepKind = iota + 1
	WebSocketStepKind
	SleepStepKind
	RepeatStepKind // a `repeat` block: Repeat holds its steps; the executor loops, no step kind
)

// Step is one step of a scenario (of its steps, a task, setup, teardown or a repeat).
type Step struct {
	Kind      StepKind
	HTTP      *HTTPStep
	WebSocket *WebSocketStep
	Sleep     ThinkTime // for SleepStepKind
	Repeat    *Repeat   // for RepeatStepKind
	// When, if not nil, is evaluated just before the step would run (after the steps before it,
	// so it may read their captures; one without a value reads as ""): the step runs only when it
	// is true (Template.Bool). A skipped step sends nothing and makes no capture.
	When *Template
	Pos  Pos
}

// HTTPStep is an `http` block.
type HTTPStep struct {
	Name            string
	Method          string    // upper case; default GET
	URL             *Template // absolute URL: the target's base_url joined with path, or url
	URLTag          string    // what the url tag shows: the `name` attribute, else the URL template's path and query (urlTag)
	Query           []KV
	Headers         []KV // step headers; the target's headers come first and are overridden by these
	Body            *Template
	JSON            *Template // value encoded as JSON; sets Content-Type when not given
	Form            []KV      // urlencoded form; sets Content-Type when not given
	Timeout         time.Duration
	FollowRedirects bool // default true
	MaxRedirects    int  // default 10
	Checks          []*Check
	Captures        []*Capture
	ThinkTime       *ThinkTime // after this step; overrides the scenario's
	// FailOnCheck makes a failed check count the request as failed in http_req_failed too
	// (default false: as in k6, http_req_failed is by status, check failures are in checks).
	FailOnCheck bool
	// ExpectedStatus overrides the target's (Target.ExpectedStatus) for this step; nil keeps it.
	ExpectedStatus [][2]int
	Target         *Target
	Tags           *metrics.Tags
	Pos            Pos
}

// CheckKind is what a check tests.
type CheckKind uint8

const (
	CheckStatus        CheckKind = iota + 1 // Statuses or StatusRanges
	CheckHeaderEquals                       // Header == Value
	CheckHeaderMatches                      // Header =~ Regexp
	CheckBodyContains                       // body contains Value
	CheckBodyMatches                        // body =~ Regexp
	CheckJSONEquals                         // JSON Path == JSONValue
	CheckMaxDuration                        // duration <= Duration
)

// Check is one condition on a response. A `check` block with several attributes yields several
// Checks, each counted on its own.
type Check struct {
	Name         string // shown in the summary and the `check` tag, e.g. `status == 200`
	Kind         CheckKind
	Statuses     []int
	StatusRanges [][2]int // inclusive ranges, e.g. {200,299} for "2xx"
	Header       string
	Value        string
	Regexp       *regexp.Regexp
	Path         string // JSON path for CheckJSONEquals: dot-separated, numbers index arrays
	JSONValue    string // expected value as canonical JSON text (numbers as JSON, strings quoted)
	Duration     time.Duration
	Pos          Pos
}

// CaptureKind is where a capture reads from.
type CaptureKind uint8

const (
	CaptureJSON CaptureKind = iota + 1
	CaptureHeader
	CaptureRegex
	CaptureCookie
)

// Capture extracts a value from a response (or WebSocket frame) into capture.NAME for later steps
// of the same iteration.
type Capture struct {
	Name     string
	Kind     CaptureKind
	Path     string         // JSON path (dot-separated), header name or cookie name
	Regexp   *regexp.Regexp // for CaptureRegex: the first submatch, or the whole match without groups
	Required bool           // default true: a missing value fails the iteration
	Pos      Pos
}

// SessionMode says how long a WebSocket connection lives.
type SessionMode string

const (
	PerIteration SessionMode = "iteration"  // connect, run the steps, close, every iteration
	Persistent   SessionMode = "persistent" // one connection per VU across iterations
)

// WebSocketStep is a `websocket` block: a connection and a sequence of message steps.
type WebSocketStep struct {
	Name           string
	URL            *Template // ws:// or wss:// (http and https base URLs are converted)
	URLTag         string
	Headers        []KV
	Query          []KV
	Subprotocols   []string
	Timeout        time.Duration // connect timeout, default 10s
	MaxMessageSize int64         // default 1 MiB
	Compression    bool
	Session        SessionMode
	Reconnect      *Reconnect // nil: a dropped connection fails the session
	OnMessage      []*AutoReply
	Steps          []*WSAction
	Target         *Target
	Tags           *metrics.Tags // tags of the connection itself (step = block name)
	Pos            Pos
}

// Reconnect is the policy for re-establishing a dropped connection.
type Reconnect struct {
	MaxAttempts int
	Backoff     string // "exponential" or "constant"
	Initial     time.Duration
	Max         time.Duration
}

// AutoReply answers server frames that match, whenever they arrive, in any step.
type AutoReply struct {
	Name  string
	Match *FrameMatch
	Reply *Message
	Pos   Pos
}

// WSActionKind is the kind of a WSAction.
type WSActionKind uint8

const (
	WSSend WSActionKind = iota + 1
	WSExpect
	WSReceive
	WSSleep
	WSPing
	WSClose
)

// Message is what a send step or auto-reply sends.
type Message struct {
	Text   *Template // text frame; JSON is encoded into Text at load when constant
	JSON   *Template // value encoded as JSON per send when not constant
	Binary []byte    // binary frame
}

// FrameMatch is how an expect step or auto-reply recognises a frame. Empty fields match anything.
type FrameMatch struct {
	JSON   *Template // subset match: every key in this object must equal the frame's
	Equals *Template // text equality
	Regexp *regexp.Regexp
	Binary []byte // exact binary frame
}

// WSAction is one message step (send, expect, receive, sleep, ping, close) inside a websocket
// block; the block itself, a WebSocketStep, is one step of a scenario.
type WSAction struct {
	Kind       WSActionKind
	Name       string
	Send       *Message
	Repeat     int           // send: how many times (default 1)
	Interval   time.Duration // send: pause between repeats
	Match      *FrameMatch   // expect
	Count      int           // expect: frames to match (default 1)
	Within     time.Duration // expect: timeout (default 10s); ping: timeout
	Strict     bool          // expect: a non-matching frame fails the step
	Captures   []*Capture    // expect: from the (last) matched frame
	Duration   time.Duration // receive, sleep
	ExpectRate float64       // receive: minimum frames per second, 0 for none
	CloseCode  int           // close: code to send (default 1000)
	ExpectCode int           // close: the server's close code to require, 0 for any
	Tags       *metrics.Tags
	Pos        Pos
}

// Model is a workload model.
type Model string

const (
	Users            Model = "users"             // closed: VUs ramp by stage
	ArrivalRate      Model = "arrival_rate"      // open: iterations per time unit ramp by stage
	PerVUIterations  Model = "per_vu_iterations" // each of VUs runs Iterations iterations
	SharedIterations Model = "shared_iterations" // VUs share Iterations iterations
)

// Stage is one linear segment of a ramp: from the previous target to Target over Duration.
// Target is VUs for Users and iterations per TimeUnit for ArrivalRate.
type Stage struct {
	Duration time.Duration
	Target   float64
	Pos      Pos
}

// Load is a `load` block.
type Load struct {
	Model            Model
	Stages           []Stage
	StartVUs         int           // users: VUs at t=0 (default 0)
	GracefulRampDown time.Duration // users: how long a VU that must go may finish its iteration (default 30s)
	StartRate        float64       // arrival_rate: rate at t=0
	TimeUnit         time.Duration // arrival_rate: default 1s
	PreAllocatedVUs  int           // arrival_rate
	MaxVUs           int           // arrival_rate: default PreAllocatedVUs
	VUs              int           // iterations models
	Iterations       int           // iterations models: per VU or shared
	MaxDuration      time.Duration // iterations models: default 10m
	GracefulStop     time.Duration // in-flight iterations at the end may finish within this (default 30s)
	// MaxScheduleLag is the schedule lag beyond which the generator is called saturated (exit 98).
	// Default 1s; 0 disables.
	MaxScheduleLag time.Duration
	// MaxDroppedIterations above which the run is saturated (exit 98); default 0 (any drop), -1 disables.
	MaxDroppedIterations int
	Pos                  Pos
}

// Duration returns the planned length of the load's stages (MaxDuration for iteration models).
func (l *Load) Duration() time.Duration {
	if l.Model == PerVUIterations || l.Model == SharedIterations {
		return l.MaxDuration
	}
	var d time.Duration
	for _, s := range l.Stages {
		d += s.Duration
	}
	return d
}

// Threshold is one pass/fail rule.
type Threshold struct {
	Name        string // the block label as written, e.g. `http_req_duration{scenario=rest}`
	Metric      metrics.Metric
	Selector    map[string]string // tag filters
	Conditions  []metrics.Condition
	AbortOnFail bool
	Delay       time.Duration // abort_on_fail is not acted upon before this much run time
	Window      time.Duration // sliding window; 0 means the whole run
	Stage       int           // 1-based stage of the plan-level load (or the only scenario's); 0 means all
	Pos         Pos
}
