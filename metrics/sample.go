package metrics

// Tags is the immutable tag set of a step, built once when a plan is compiled and shared by pointer
// by every Sample the step emits, so that samples stay flat and aggregation keys stay comparable.
// A series is keyed by the Tags pointer (Key, Index), so two tag sets with equal fields merge only
// when they are the same pointer: whoever builds Tags interns them — plan's loader for every step
// and scenario of a plan, summary.Interner for the series decoded from segment summaries.
type Tags struct {
	Scenario string // scenario name
	Step     string // step name (http/websocket block label, or "websocket.step" for ws steps)
	Target   string // target name
	Method   string // HTTP method, or "WS" for WebSocket steps
	URL      string // URL template or the step's `name` tag; never an expanded per-iteration URL
	Group    string // "http" or "ws" (or "" for scenario-level samples such as iterations)
	// Task is the `task "name"` block the step belongs to (and of a task's iterations samples);
	// "" outside tasks (the scenario's steps, setup, teardown).
	Task string
}

// Get returns the value of the tag called name, and whether such a tag exists. The dynamic tags
// status and label live on the Sample (see Sample.Tag).
func (t *Tags) Get(name string) (string, bool) {
	if t == nil {
		return "", false
	}
	switch name {
	case "scenario":
		return t.Scenario, true
	case "step":
		return t.Step, true
	case "target":
		return t.Target, true
	case "method":
		return t.Method, true
	case "url", "name":
		return t.URL, true
	case "task":
		return t.Task, true
	}
	return "", false
}

// TagNames lists every tag name a selector may use, static and dynamic.
var TagNames = []string{"scenario", "step", "target", "method", "url", "name", "task", "status", "check", "error"}

// Sample is one measurement. It is a flat value, cheap to copy; the hot path allocates nothing for
// it beyond its slot in a batch.
type Sample struct {
	Metric Metric
	// BodyBytes is the length of the response body on an HTTP data_received sample (Locust's
	// content size; at most 4 GiB), 0 otherwise. It sits in Metric's padding: no bigger Sample.
	BodyBytes uint32
	Time      int64   // Unix nanoseconds when the measurement ended
	Value     float64 // milliseconds for Time metrics, bytes for Bytes, 0/1 for rates, counts otherwise
	Tags      *Tags   // shared, immutable; nil for run-level samples (vus)
	Status    int     // HTTP status, WebSocket close code, 0 when none
	// Label is the check name for checks, the error kind for errors and ws_errors, "" otherwise.
	Label string
	// Span is the trace context of a traced request that was sampled or failed, on its duration
	// sample only, or a sampled iteration's root span on its iteration_duration sample (see
	// TraceSpan); nil otherwise and whenever tracing is off.
	Span *TraceSpan
}

// Tag returns the value of a static or dynamic tag of s.
func (s *Sample) Tag(name string) (string, bool) {
	switch name {
	case "status":
		if s.Status == 0 {
			return "", false
		}
		return itoa(s.Status), true
	case "check", "error":
		if s.Label == "" {
			return "", false
		}
		return s.Label, true
	}
	return s.Tags.Get(name)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// Sink receives batches of samples. Push must not retain batch after it returns: the caller
// reuses it. A Sink may block briefly (back-pressure) but never drops samples.
type Sink interface {
	Push(batch []Sample)
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(batch []Sample)

// Push calls f(batch).
func (f SinkFunc) Push(batch []Sample) { f(batch) }
