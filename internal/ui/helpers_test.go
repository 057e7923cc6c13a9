package ui

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loadplan/loadplan/internal/testkit"
	"github.com/loadplan/loadplan/plan"
	"github.com/loadplan/loadplan/run"
)

func TestMain(m *testing.M) { os.Exit(testkit.Run(m)) }

// newTestRun builds (does not start) a run of one GET step against host with the given load.
func newTestRun(t testing.TB, host, load string, cfg run.Config) *run.Run {
	t.Helper()
	file := filepath.Join(t.TempDir(), "plan.hcl")
	if err := os.WriteFile(file, []byte(testkit.PlanSource("/ok", load, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	p, _, diags := plan.LoadFiles([]string{file}, plan.Options{Vars: map[string]string{"host": host}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	cfg.Name = "plan"
	r, err := run.New(p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// listen serves an empty page set on a free loopback port, closed when the test ends.
func listen(t testing.TB, token string) *Server {
	t.Helper()
	srv, err := Listen(Config{Addr: "127.0.0.1:0", Token: token})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// readFrames reads the event stream at url until stop says so or the stream ends, and returns
// the frames read.
func readFrames(t testing.TB, ctx context.Context, url string, hdr http.Header, stop func(frame) bool) []frame {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("events: %s %s", resp.Status, b)
	}
	var out []frame
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var f frame
		if err := json.Unmarshal([]byte(data), &f); err != nil {
			t.Fatalf("frame is not JSON: %v\n%s", err, data)
		}
		out = append(out, f)
		if stop(f) {
			return out
		}
	}
	return out
}
