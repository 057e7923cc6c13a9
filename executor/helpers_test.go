package executor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loadplan/loadplan/internal/testkit"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// counter is a loopback server (testkit.Counter) that counts every request it receives.
type counter struct {
	*httptest.Server
	hits *atomic.Int64
}

func newCounter(t *testing.T, h http.HandlerFunc) *counter {
	t.Helper()
	c := testkit.NewCounter(t, h)
	return &counter{c.Server, &c.Hits}
}

// collector is a Sink that aggregates into a metrics.Store, as the outputs Manager would, and
// counts samples per metric.
type collector struct {
	mu     sync.Mutex // guards counts and errs
	store  *metrics.Store
	counts map[metrics.Metric]float64
	errs   map[string]int
}

func newCollector() *collector {
	return &collector{store: metrics.NewStore(), counts: map[metrics.Metric]float64{}, errs: map[string]int{}}
}

func (c *collector) Push(batch []metrics.Sample) {
	c.store.Add(batch)
	c.mu.Lock()
	for _, s := range batch {
		c.counts[s.Metric] += s.Value
		if s.Metric == metrics.Errors {
			c.errs[s.Label]++
		}
	}
	c.mu.Unlock()
}

// sum returns the sum of the values of metric m.
func (c *collector) sum(m metrics.Metric) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[m]
}

func (c *collector) errors() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.errs {
		out[k] = v
	}
	return out
}

// series returns the combined series of m across every tag set.
func (c *collector) series(m metrics.Metric) *metrics.Series {
	return metrics.Combine(c.store.Snapshot(), m, nil)
}

// httpStepOf builds an HTTP step by hand, with the defaults plan.Load fills.
func httpStepOf(scenario, name, method, url string) *plan.HTTPStep {
	return &plan.HTTPStep{
		Name: name, Method: method, URL: plan.Literal(url), URLTag: url,
		Timeout: 10 * time.Second, FollowRedirects: true, MaxRedirects: 10, FailOnCheck: true,
		Tags: &metrics.Tags{Scenario: scenario, Step: name, Method: method, URL: url, Group: "http"},
	}
}

// planOf builds a one-scenario plan with the given steps and plan-level load.
func planOf(l *plan.Load, steps ...*plan.HTTPStep) *plan.Plan {
	sc := &plan.Scenario{Name: "s", Weight: 1}
	for _, st := range steps {
		sc.Steps = append(sc.Steps, &plan.Step{Kind: plan.HTTPStepKind, HTTP: st})
	}
	return &plan.Plan{Scenarios: []*plan.Scenario{sc}, Load: l}
}

func withDefaults(l *plan.Load) *plan.Load {
	if l.GracefulStop == 0 {
		l.GracefulStop = 10 * time.Second
	}
	if l.GracefulRampDown == 0 {
		l.GracefulRampDown = 10 * time.Second
	}
	if l.TimeUnit == 0 {
		l.TimeUnit = time.Second
	}
	if l.MaxDuration == 0 {
		l.MaxDuration = time.Minute
	}
	if l.MaxScheduleLag == 0 {
		l.MaxScheduleLag = time.Second
	}
	return l
}

// run runs p to the end and returns the collector and the result.
func run(t *testing.T, cfg Config) (*collector, Result) {
	t.Helper()
	col := newCollector()
	cfg.Sink = col
	cfg.Logf = t.Logf
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	res := e.Run(context.Background())
	if res.Err != nil {
		t.Fatalf("Run: %v", res.Err)
	}
	return col, res
}
