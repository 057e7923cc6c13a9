package metrics

import (
	"math"
	"testing"
)

func TestFormatMillis(t *testing.T) {
	for _, c := range []struct {
		ms   float64
		want string
	}{
		{0, "0s"},
		{0.25, "250µs"},
		{1, "1.00ms"},
		{412.345, "412.35ms"},
		{1500, "1.50s"},
		{59999, "60.00s"},
		{61500, "1m2s"},
		{3 * 3600 * 1000, "3h0m0s"},
		{math.NaN(), "n/a"},
		{math.Inf(1), "n/a"},
	} {
		if got := FormatMillis(c.ms); got != c.want {
			t.Errorf("FormatMillis(%v) = %q, want %q", c.ms, got, c.want)
		}
	}
}

func TestFormatValue(t *testing.T) {
	for _, c := range []struct {
		m    Metric
		agg  string
		v    float64
		want string
	}{
		{HTTPReqDuration, "p", 412.3, "412.30ms"},
		{HTTPReqDuration, "count", 1234, "1234"},
		{HTTPReqFailed, "rate", 0.002, "0.20%"},
		{HTTPReqs, "rate", 41.666, "41.67/s"},
		{HTTPReqs, "count", 40, "40"},
		{DataReceived, "avg", 1536, "1.5 kB"},
		{DataReceived, "avg", 999, "999 B"},
		{VUs, "value", 50, "50"},
	} {
		if got := FormatValue(c.m, c.agg, c.v); got != c.want {
			t.Errorf("FormatValue(%s, %s, %v) = %q, want %q", c.m, c.agg, c.v, got, c.want)
		}
	}
}

func TestSelectorString(t *testing.T) {
	if got := SelectorString(nil); got != "" {
		t.Errorf("empty selector = %q", got)
	}
	if got, want := SelectorString(map[string]string{"step": "quote", "scenario": "rest"}), "{scenario:rest,step:quote}"; got != want {
		t.Errorf("SelectorString = %q, want %q", got, want)
	}
}
