package integration

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/outputs"
	"github.com/loadplan/loadplan/outputs/prometheus"
)

// TestNativeHistogramsScraped starts a second Prometheus with native histograms enabled (it then
// scrapes the protobuf exposition) and checks that it ingests loadplan's duration histograms as
// native histograms with the values fed: 900 requests of 10 ms and 100 of 200 ms.
func TestNativeHistogramsScraped(t *testing.T) {
	bin := findBinary("prometheus")
	if bin == "" {
		need(t, nil)
	}
	target, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	prom, err := startPrometheus(bin, filepath.Join(t.TempDir(), "native"), []string{target}, "--enable-feature=native-histograms")
	if err != nil {
		t.Fatal(err)
	}
	defer prom.stop()
	out, err := prometheus.New(prometheus.Config{Listen: target, TestID: "native"}, outputs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer out.Stop(context.Background())
	tags := &metrics.Tags{Scenario: "s", Step: "get", Target: "api", Method: "GET", URL: "/x", Group: "http"}
	var batch []metrics.Sample
	for i := 0; i < 1000; i++ {
		v := 10.0
		if i%10 == 0 {
			v = 200
		}
		batch = append(batch, metrics.Sample{Metric: metrics.HTTPReqDuration, Time: time.Now().UnixNano(), Value: v, Tags: tags, Status: 200})
	}
	out.Emit(batch)

	sel := `loadplan_http_req_duration_seconds{testid="native"}`
	if got, err := pollPromAt(prom, "histogram_count("+sel+")", 1000); err != nil || got != 1000 {
		t.Fatalf("histogram_count = %v (%v), want 1000: not ingested as a native histogram", got, err)
	}
	for q, want := range map[float64]float64{0.5: 0.010, 0.95: 0.200} {
		r, err := promQueryAt(prom, fmt.Sprintf("histogram_quantile(%g, %s)", q, sel), time.Time{}, time.Time{}, 0)
		if err != nil || len(r.Data.Result) == 0 {
			t.Fatalf("histogram_quantile(%g): %v %+v", q, err, r)
		}
		got, _ := strconv.ParseFloat(r.Data.Result[0].Value[1].(string), 64)
		// Bucket factor 1.1: a quantile is within one bucket, about ±5%, of the true value.
		if math.Abs(got-want)/want > 0.06 {
			t.Errorf("native histogram_quantile(%g) = %v, want %v ±6%%", q, got, want)
		}
	}
}
