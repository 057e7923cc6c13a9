package wsstep

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/loadplan/loadplan/metrics"
	"github.com/loadplan/loadplan/plan"
)

// wsServerEnv makes the test binary act as an idle WebSocket server (see TestWSIdleServerProcess),
// so that a benchmark measures the client's memory alone.
const wsServerEnv = "LOADPLAN_WS_IDLE_SERVER"

// TestWSIdleServerProcess is not a test: run by BenchmarkWSIdleSessions in a child process (with
// wsServerEnv set), it serves idle WebSocket sessions on 127.0.0.1 until its stdin closes. In a
// normal test run it returns at once.
func TestWSIdleServerProcess(t *testing.T) {
	if os.Getenv(wsServerEnv) != "1" {
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				return
			}
		}
	})}
	go srv.Serve(ln)
	fmt.Printf("listening %s\n", ln.Addr())
	bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin
	ln.Close()
}

// wsIdleServer starts the idle server in a child process and returns its ws:// URL.
func wsIdleServer(b *testing.B) string {
	cmd := exec.Command(os.Args[0], "-test.run=^TestWSIdleServerProcess$")
	cmd.Env = append(os.Environ(), wsServerEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		b.Fatalf("idle server: %q %v", line, err)
	}
	return "ws://" + addr
}

// BenchmarkWSIdleSessions holds b.N concurrent idle persistent sessions as the bench's WebSocket
// plan does: each VU (a goroutine with its own wsVU, handshake client, session and connection)
// waits in a long receive step on a server that sends nothing. It reports the client-side
// memory per session — heap in use and goroutine stacks after a GC, the VU's goroutine included —
// and the goroutines per session. The server runs in another process.
//
//	go test -run '^$' -bench WSIdleSessions -benchtime 10000x ./executor/wsstep/
func BenchmarkWSIdleSessions(b *testing.B) {
	url := wsIdleServer(b)
	st := wsBlock(url, &plan.WSAction{Kind: plan.WSReceive, Name: "idle", Duration: time.Hour})
	st.Session = plan.Persistent
	discard := func(metrics.Sample) {}
	stop := make(chan struct{})
	var opened, wg sync.WaitGroup
	var failed atomic.Int64
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	goroutines := runtime.NumGoroutine()
	vus := make([]*wsVU, b.N)
	sh := newWSShared() // one per block for the run, as compile makes it
	b.ResetTimer()
	for i := range vus {
		vus[i] = &wsVU{shared: sh, rt: &plan.Runtime{VU: int64(i + 1)}, emit: discard, stop: stop}
		opened.Add(1)
		wg.Add(1)
		var once sync.Once
		vus[i].connected = func(*plan.Target, bool, string) { once.Do(opened.Done) }
		go func(vu *wsVU) {
			defer wg.Done()
			if err := vu.run(context.Background(), st); err != nil {
				failed.Add(1)
			}
		}(vus[i])
		if i%100 == 99 {
			opened.Wait() // a hundred handshakes at a time, as a ramp would
		}
	}
	opened.Wait()
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	n := float64(b.N)
	heap := float64(after.HeapInuse) - float64(before.HeapInuse)
	stack := float64(after.StackInuse) - float64(before.StackInuse)
	b.ReportMetric((heap+stack)/n, "B/session")
	b.ReportMetric(heap/n, "heap-B/session")
	b.ReportMetric(stack/n, "stack-B/session")
	b.ReportMetric(float64(runtime.NumGoroutine()-goroutines)/n, "goroutines/session")
	close(stop)
	wg.Wait()
	for _, vu := range vus {
		vu.Close()
	}
	if failed.Load() > 0 {
		b.Fatalf("%d sessions failed", failed.Load())
	}
}
