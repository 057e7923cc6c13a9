package metrics

import (
	"testing"
	"time"
)

func TestParseCondition(t *testing.T) {
	cases := []struct {
		src  string
		kind Kind
		unit Unit
		agg  string
		p    float64
		op   string
		val  float64
		err  string
	}{
		{src: "p(95) < 300ms", kind: Trend, unit: Time, agg: "p", p: 95, op: "<", val: 300},
		{src: "p(99.9)<=1.5s", kind: Trend, unit: Time, agg: "p", p: 99.9, op: "<=", val: 1500},
		{src: "avg < 200", kind: Trend, unit: Time, agg: "avg", op: "<", val: 200},
		{src: "med>=1m", kind: Trend, unit: Time, agg: "med", op: ">=", val: 60000},
		{src: "rate < 0.01", kind: Rate, agg: "rate", op: "<", val: 0.01},
		{src: "rate == 0", kind: Rate, agg: "rate", op: "==", val: 0},
		{src: "rate < 1%", kind: Rate, agg: "rate", op: "<", val: 0.01},
		{src: "count > 1000", kind: Counter, agg: "count", op: ">", val: 1000},
		{src: "count > 10", kind: Trend, unit: Time, agg: "count", op: ">", val: 10},
		{src: "value <= 50", kind: Gauge, agg: "value", op: "<=", val: 50},
		{src: "p(95) < 3x", kind: Trend, unit: Time, err: `"3x" is not a duration; write e.g. 300ms, 1.5s or a number of milliseconds`},
		{src: "p95 < 3s", kind: Trend, unit: Time, err: `a percentile is written p(N), e.g. "p(95) < 300ms"`},
		{src: "mean < 3s", kind: Trend, unit: Time, err: `"mean" does not apply to a trend metric; use one of avg, min, max, med, p(N), count`},
		{src: "avg < 0.1", kind: Rate, err: `"avg" does not apply to a rate metric; use one of rate`},
		{src: "p(101) < 1s", kind: Trend, unit: Time, err: "the percentile must be a number from 0 to 100"},
		{src: "rate 0.1", kind: Rate, err: "expected a comparison: <, <=, >, >=, == or !="},
		{src: "rate <", kind: Rate, err: "expected a value after the comparison"},
		{src: "", kind: Rate, err: "a condition starts with an aggregation such as p(95), avg, rate or count"},
	}
	for _, c := range cases {
		got, err := ParseCondition(c.src, c.kind, c.unit)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%q: error %v, want %q", c.src, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.src, err)
			continue
		}
		if got.Agg != c.agg || got.P != c.p || got.Op != c.op || got.Bound != c.val {
			t.Errorf("%q: got %+v", c.src, got)
		}
	}
}

func TestConditionObserve(t *testing.T) {
	tags := &Tags{Scenario: "s"}
	var trend, rate, counter Series
	trend.Key = Key{Metric: HTTPReqDuration, Tags: tags}
	rate.Key = Key{Metric: HTTPReqFailed, Tags: tags}
	counter.Key = Key{Metric: HTTPReqs, Tags: tags}
	for i := 1; i <= 100; i++ {
		trend.Add(&Sample{Metric: HTTPReqDuration, Value: float64(i)})
		v := 0.0
		if i <= 5 {
			v = 1
		}
		rate.Add(&Sample{Metric: HTTPReqFailed, Value: v})
		counter.Add(&Sample{Metric: HTTPReqs, Value: 1})
	}
	check := func(src string, s *Series, want float64, holds bool) {
		t.Helper()
		c, err := ParseCondition(src, s.Key.Metric.Kind(), s.Key.Metric.Info().Unit)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := c.Observe(s, 10*time.Second)
		if !ok || got < want*0.995 || got > want*1.005 {
			t.Errorf("%s: observed %v (ok %v), want %v", src, got, ok, want)
		}
		if c.Holds(got) != holds {
			t.Errorf("%s: holds %v, want %v", src, c.Holds(got), holds)
		}
	}
	check("p(95) < 90", &trend, 95, false)
	check("p(50) < 60", &trend, 50, true)
	check("avg <= 50.5", &trend, 50.5, true)
	check("max < 100", &trend, 100, false)
	check("rate < 0.01", &rate, 0.05, false)
	check("count >= 100", &counter, 100, true)
	check("rate > 9", &counter, 10, true)

	c, _ := ParseCondition("rate < 0.01", Rate, None)
	if _, ok := c.Observe(&Series{Key: Key{Metric: HTTPReqFailed}}, time.Second); ok {
		t.Error("an empty series must not observe a value")
	}
}
