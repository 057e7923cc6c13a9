package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
)

func TestDemoServesUntilStopped(t *testing.T) {
	pr, pw := io.Pipe()
	stop := make(chan os.Signal, 1)
	var stderr bytes.Buffer
	code := make(chan int, 1)
	go func() {
		code <- serveDemo("127.0.0.1:0", pw, &stderr, stop)
		pw.Close()
	}()
	out := bufio.NewReader(pr)
	first, err := out.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(first), "demo backend listening on ")
	if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("first line %q", first)
	}
	for i := 0; i < 3; i++ {
		resp, err := http.Get(url + "/api/health")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("health: %d", resp.StatusCode)
		}
	}
	http.DefaultClient.CloseIdleConnections()
	stop <- os.Interrupt
	rest, _ := io.ReadAll(out)
	if c := <-code; c != exitOK {
		t.Fatalf("exit %d, stderr %q", c, stderr.String())
	}
	if !strings.Contains(string(rest), "served 3 requests, 0 WebSocket sessions") {
		t.Errorf("output %q", rest)
	}
}

func TestDemoUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if c := runDemo([]string{"-addr"}, &out, &errb); c != exitUsage {
		t.Errorf("missing flag value: exit %d", c)
	}
	if c := runDemo([]string{"extra"}, &out, &errb); c != exitUsage {
		t.Errorf("stray argument: exit %d", c)
	}
	if c := runDemo([]string{"-addr", "127.0.0.1:notaport"}, &out, &errb); c != exitRuntime {
		t.Errorf("bad address: exit %d", c)
	}
}
