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
	"testing"

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

// BenchmarkWSIdleSessions holds b.N concurrent idle persistent sessions, each with its own VU
// state as in a run (a wsVU with its handshake client, a session, a connection and its reader
// goroutine), and reports the client-side memory per session: heap in use plus goroutine stacks,
// after a GC, divided by the sessions. The server runs in another process.
//
//	go test -run '^$' -bench WSIdleSessions -benchtime 10000x ./executor/
func BenchmarkWSIdleSessions(b *testing.B) {
	url := wsIdleServer(b)
	st := wsBlock(url) // no steps: connect and hold
	st.Session = plan.Persistent
	discard := func(metrics.Sample) {}
	vus := make([]*wsVU, 0, b.N)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		vu := &wsVU{shared: newWSShared(), rt: &plan.Runtime{VU: int64(i + 1)}, emit: discard}
		if err := vu.run(context.Background(), st); err != nil {
			b.Fatalf("session %d: %v", i, err)
		}
		vus = append(vus, vu)
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	used := float64(after.HeapInuse+after.StackInuse) - float64(before.HeapInuse+before.StackInuse)
	b.ReportMetric(used/float64(b.N), "B/session")
	b.ReportMetric(float64(runtime.NumGoroutine())/float64(b.N), "goroutines/session")
	for _, vu := range vus {
		vu.Close()
	}
}
