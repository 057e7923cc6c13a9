package main

import (
	"bufio"
	"context"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"time"
)

// goBenchPkgs are the packages whose `Benchmark…` functions the harness runs with -benchmem.
var goBenchPkgs = []string{"./plan/", "./metrics/", "./outputs/csv/", "./internal/h1/", "./executor/"}

// The executor benchmarks that compare one request through the VU hot path with a bare net/http
// request to the same server (executor/vu_bench_test.go).
const (
	benchVU    = "BenchmarkHTTPRequestVU"        // the default path (HTTP/1.1 fast path for http://)
	benchVUStd = "BenchmarkHTTPRequestVUNetHTTP" // the same with net/http inside the VU
	benchBare  = "BenchmarkHTTPRequestBare"
)

// goBenchLine matches `BenchmarkName-2   123   456 ns/op ...`; goBenchUnit each `VALUE UNIT` pair after
// the iteration count (ns/op, custom metrics such as ns/sample, B/op, allocs/op).
var (
	goBenchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$`)
	goBenchUnit = regexp.MustCompile(`([\d.e+-]+) (\S+)`)
)

// goBench is one benchmark's result.
type goBench struct {
	pkg, name       string
	ns, bytes, allc float64
	extra           string // custom metrics, e.g. "199.7 ns/sample"
}

func numCPU() int { return runtime.NumCPU() }

// goBenchmarks runs the Go benchmarks of the pieces once (-count 1, default benchtime) from the
// module root and records them; the executor pair gives allocations beyond net/http's own.
func (h *harness) goBenchmarks(ctx context.Context) {
	logf("go benchmarks: %s", strings.Join(goBenchPkgs, " "))
	args := append([]string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-count", "1", "-timeout", "10m"}, goBenchPkgs...)
	p, err := runChild(ctx, 10*time.Minute, 0, "go", args...)
	if err != nil {
		h.res.fail("go benchmarks: %v", err)
		return
	}
	if p.Exit != 0 {
		h.res.fail("go benchmarks exited %d: %s", p.Exit, tail(p.Stdout+p.Stderr, 400))
	}
	pkg := ""
	sc := bufio.NewScanner(strings.NewReader(p.Stdout))
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimPrefix(v, "github.com/loadplan/loadplan/")
			continue
		}
		m := goBenchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		g := goBench{pkg: pkg, name: m[1]}
		for _, u := range goBenchUnit.FindAllStringSubmatch(m[3], -1) {
			switch u[2] {
			case "ns/op":
				g.ns = atof(u[1])
			case "B/op":
				g.bytes = atof(u[1])
			case "allocs/op":
				g.allc = atof(u[1])
			default:
				g.extra = strings.TrimSpace(g.extra + " " + u[1] + " " + u[2])
			}
		}
		h.gobench = append(h.gobench, g)
	}
	var vu, std, bare *goBench
	for i := range h.gobench {
		switch h.gobench[i].name {
		case benchVU:
			vu = &h.gobench[i]
		case benchVUStd:
			std = &h.gobench[i]
		case benchBare:
			bare = &h.gobench[i]
		}
	}
	if std == nil {
		std = vu // a build without the fast path
	}
	if vu != nil && std != nil && bare != nil {
		h.res.add("gobench/alloc", map[string]float64{"vu_allocs": vu.allc, "std_allocs": std.allc, "bare_allocs": bare.allc,
			"extra_allocs": std.allc - bare.allc, "fast_vs_bare": vu.allc - bare.allc, "vu_ns": vu.ns, "bare_ns": bare.ns})
	}
}

// goBenchSection renders the Go benchmarks, "" when they did not run.
func (h *harness) goBenchSection() string {
	if len(h.gobench) == 0 {
		return ""
	}
	t := &table{head: []string{"package", "benchmark", "ns/op", "B/op", "allocs/op", "other"}}
	for _, g := range h.gobench {
		t.row(g.pkg, strings.TrimPrefix(g.name, "Benchmark"), num(g.ns, 1), num(g.bytes, 0), num(g.allc, 0), g.extra)
	}
	s := fmt.Sprintf("## Go benchmarks of the pieces (`go test -bench . -benchmem`, one run)\n\n%s\n", t)
	if a := h.res.get("gobench/alloc", "extra_allocs"); a.n > 0 {
		s += fmt.Sprintf("Allocations per HTTP request against the same in-process httptest server (whose own "+
			"per-request allocations are included in every figure): a bare `net/http` client %s; a VU using "+
			"net/http %s, so the executor adds %s to net/http's own; a VU on the default HTTP/1.1 fast path "+
			"(plain http:// targets) %s, i.e. %s relative to the bare client.\n",
			h.res.f("gobench/alloc", "bare_allocs", 0), h.res.f("gobench/alloc", "std_allocs", 0), a.cell(0),
			h.res.f("gobench/alloc", "vu_allocs", 0), h.res.f("gobench/alloc", "fast_vs_bare", 0))
	}
	return s
}
