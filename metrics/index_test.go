package metrics

import "testing"

func TestIndexResolvesEachSeriesOnce(t *testing.T) {
	made := map[Key]int{}
	ix := NewIndex(func(k Key) *int {
		made[k]++
		n := new(int)
		return n
	})
	a := &Tags{Scenario: "s", Step: "a"}
	b := &Tags{Scenario: "s", Step: "b"}
	samples := []Sample{
		{Metric: HTTPReqs, Tags: a, Status: 200},
		{Metric: HTTPReqs, Tags: a, Status: 500},
		{Metric: HTTPReqDuration, Tags: a, Status: 200},
		{Metric: HTTPReqs, Tags: b, Status: 200},
		{Metric: Checks, Tags: a, Label: "status == 200"},
		{Metric: Checks, Tags: a, Label: "body contains x"},
		{Metric: VUs},
	}
	for round := 0; round < 3; round++ {
		for i := range samples {
			*ix.Lookup(&samples[i])++
		}
	}
	if len(made) != len(samples) {
		t.Fatalf("resolved %d series, want %d", len(made), len(samples))
	}
	for k, n := range made {
		if n != 1 {
			t.Errorf("series %+v resolved %d times", k, n)
		}
	}
	for i := range samples {
		if got := *ix.Lookup(&samples[i]); got != 3 {
			t.Errorf("sample %d: its series counted %d, want 3", i, got)
		}
	}
}
