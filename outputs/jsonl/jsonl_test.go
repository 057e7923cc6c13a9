package jsonl

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
)

type line struct {
	Type   string `json:"type"`
	Metric string `json:"metric"`
	Data   struct {
		Name     string            `json:"name"`
		Type     string            `json:"type"`
		Contains string            `json:"contains"`
		Time     time.Time         `json:"time"`
		Value    float64           `json:"value"`
		Tags     map[string]string `json:"tags"`
	} `json:"data"`
}

func run(t *testing.T, path string, samples []metrics.Sample) []line {
	t.Helper()
	j, err := New(Config{Path: path}, outputs.Options{PlanName: "smoke"})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := range samples {
		j.Emit(samples[i : i+1])
	}
	if err := j.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var sc *bufio.Scanner
	if filepath.Ext(j.Path()) == ".gz" {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		sc = bufio.NewScanner(zr)
	} else {
		sc = bufio.NewScanner(f)
	}
	var out []line
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

func TestLinesDecodeToTheSamples(t *testing.T) {
	tags := &metrics.Tags{Scenario: "rest", Step: `quo"te`, Target: "api", Method: "GET", URL: "/api/stocks/${s}", Group: "http"}
	at := time.Date(2026, 11, 22, 10, 15, 0, 10_000_000, time.UTC)
	samples := []metrics.Sample{
		{Metric: metrics.VUs, Time: at.UnixNano(), Value: 5},
		{Metric: metrics.HTTPReqs, Time: at.UnixNano(), Value: 1, Tags: tags, Status: 200},
		{Metric: metrics.HTTPReqDuration, Time: at.UnixNano(), Value: 12.25, Tags: tags, Status: 200},
		{Metric: metrics.Checks, Time: at.UnixNano(), Value: 0, Tags: tags, Label: "status == 200"},
		{Metric: metrics.HTTPReqs, Time: at.UnixNano() + 1, Value: 1, Tags: tags, Status: 503},
	}
	for _, path := range []string{filepath.Join(t.TempDir(), "out.jsonl"), filepath.Join(t.TempDir(), "out.jsonl.gz"), t.TempDir() + "/"} {
		lines := run(t, path, samples)
		var points []line
		declared := map[string]string{}
		for _, l := range lines {
			switch l.Type {
			case "Metric":
				declared[l.Metric] = l.Data.Type
			case "Point":
				if _, ok := declared[l.Metric]; !ok {
					t.Errorf("%s: point before its Metric line", l.Metric)
				}
				points = append(points, l)
			}
		}
		if len(points) != len(samples) || len(declared) != 4 {
			t.Fatalf("%s: %d points, %d metrics declared", path, len(points), len(declared))
		}
		if declared["http_req_duration"] != "trend" || declared["checks"] != "rate" {
			t.Errorf("kinds: %v", declared)
		}
		for i, p := range points {
			s := samples[i]
			if p.Metric != s.Metric.String() || p.Data.Value != s.Value || !p.Data.Time.Equal(time.Unix(0, s.Time)) {
				t.Errorf("point %d = %+v, want %+v", i, p, s)
			}
		}
		if got := points[2].Data.Tags; got["step"] != `quo"te` || got["status"] != "200" || got["url"] != "/api/stocks/${s}" {
			t.Errorf("tags %v", got)
		}
		if got := points[3].Data.Tags["check"]; got != "status == 200" {
			t.Errorf("check tag %q", got)
		}
		if len(points[0].Data.Tags) != 0 {
			t.Errorf("vus has tags %v", points[0].Data.Tags)
		}
	}
}

func TestUnwritable(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "f")
	os.WriteFile(blocker, nil, 0o644)
	j, err := New(Config{Path: filepath.Join(blocker, "x.jsonl")}, outputs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Start(context.Background()); err == nil {
		t.Fatal("Start succeeded under a regular file")
	}
}
