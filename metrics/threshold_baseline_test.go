package metrics

import "testing"

func TestParseBaselineCondition(t *testing.T) {
	for _, c := range []struct {
		src           string
		kind          Kind
		unit          Unit
		mul, add      float64
		base, bound   float64
		wantErrOffset int // -1: no error
	}{
		{"p(95) < baseline * 1.10", Trend, Time, 1.10, 0, 40, 44, -1},
		{"rate <= baseline + 0.001", Rate, None, 1, 0.001, 0.01, 0.011, -1},
		{"avg < baseline + 20ms", Trend, Time, 1, 20, 40, 60, -1},
		{"count >= baseline - 5", Counter, None, 1, -5, 100, 95, -1},
		{"max <= baseline", Trend, Time, 1, 0, 7, 7, -1},
		{"p(95) < baseline / 2", Trend, Time, 0, 0, 0, 0, 17},
		{"p(95) < baseline * x", Trend, Time, 0, 0, 0, 0, 18},
		{"baseline > p(95)", Trend, Time, 0, 0, 0, 0, 0},
	} {
		got, err := ParseCondition(c.src, c.kind, c.unit)
		if c.wantErrOffset >= 0 {
			ce, ok := err.(*ConditionError)
			if !ok || ce.Offset != c.wantErrOffset {
				t.Errorf("%q: error %v, want one at offset %d", c.src, err, c.wantErrOffset)
			}
			continue
		}
		if err != nil || !got.Baseline || got.BaseMul != c.mul || got.BaseAdd != c.add {
			t.Errorf("%q: %+v, %v; want baseline * %v + %v", c.src, got, err, c.mul, c.add)
			continue
		}
		got.ResolveBaseline(c.base)
		if d := got.Bound - c.bound; d > 1e-9 || d < -1e-9 || !got.BaseSet {
			t.Errorf("%q with baseline %v: bound %v, want %v", c.src, c.base, got.Bound, c.bound)
		}
	}
}
