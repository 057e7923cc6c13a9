package importer

import (
	"strings"
	"testing"
)

// chromeHAR is shaped like Chromium DevTools' "Save all as HAR": _resourceType, HTTP/2 pseudo
// headers, a redirect recorded as two entries, _webSocketMessages with epoch-second times and a
// binary frame, a data: URL and an unanswered request.
const chromeHAR = `{"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"},
 "entries": [
  {"startedDateTime": "2026-01-01T10:00:00.000Z", "time": 50, "_resourceType": "document",
   "request": {"method": "GET", "url": "https://shop.example.com/login", "headers": [
     {"name": ":authority", "value": "shop.example.com"}, {"name": "user-agent", "value": "Mozilla/5.0"},
     {"name": "cookie", "value": "sid=recorded-cookie"}, {"name": "sec-ch-ua", "value": "\"Chromium\""}]},
   "response": {"status": 302, "content": {"mimeType": "text/html"}}},
  {"startedDateTime": "2026-01-01T10:00:00.060Z", "time": 40, "_resourceType": "document",
   "request": {"method": "GET", "url": "https://shop.example.com/home", "headers": []},
   "response": {"status": 200, "content": {"mimeType": "text/html"}}},
  {"startedDateTime": "2026-01-01T10:00:00.100Z", "time": 10, "_resourceType": "stylesheet",
   "request": {"method": "GET", "url": "https://cdn.example.net/site.css", "headers": []},
   "response": {"status": 200, "content": {"mimeType": "text/css"}}},
  {"startedDateTime": "2026-01-01T10:00:00.110Z", "time": 10,
   "request": {"method": "GET", "url": "https://shop.example.com/img/logo.svg", "headers": []},
   "response": {"status": 200, "content": {"mimeType": "image/svg+xml"}}},
  {"startedDateTime": "2026-01-01T10:00:00.120Z", "time": 1,
   "request": {"method": "GET", "url": "data:image/png;base64,AAAA", "headers": []},
   "response": {"status": 200, "content": {"mimeType": "image/png"}}},
  {"startedDateTime": "2026-01-01T10:00:02.600Z", "time": 30, "_resourceType": "fetch",
   "request": {"method": "POST", "url": "https://shop.example.com/api/cart?x=1&x=2", "headers": [
     {"name": "content-type", "value": "application/json"}, {"name": "x-api-key", "value": "recorded-key"}],
     "postData": {"mimeType": "application/json", "text": "{\"sku\":\"A-1\",\"qty\":1}"}},
   "response": {"status": 201, "content": {"mimeType": "application/json"}}},
  {"startedDateTime": "2026-01-01T10:00:02.700Z", "time": 0, "_resourceType": "xhr",
   "request": {"method": "GET", "url": "https://shop.example.com/api/blocked", "headers": []},
   "response": {"status": 0, "content": {"mimeType": ""}}},
  {"startedDateTime": "2026-01-01T10:00:03.000Z", "time": 5, "_resourceType": "websocket",
   "request": {"method": "GET", "url": "wss://shop.example.com/live", "headers": [{"name": "Sec-WebSocket-Key", "value": "k"}]},
   "response": {"status": 101, "content": {"mimeType": ""}},
   "_webSocketMessages": [
     {"type": "send", "time": 1767261603.1, "opcode": 1, "data": "{\"sub\":\"cart\"}"},
     {"type": "receive", "time": 1767261603.2, "opcode": 1, "data": "{\"type\":\"ok\"}"},
     {"type": "receive", "time": 1767261603.3, "opcode": 2, "data": "AQID"},
     {"type": "receive", "time": 1767261605.0, "opcode": 1, "data": "bye ${x}"}]},
  {"startedDateTime": "2026-01-01T10:00:06.000Z", "time": 20, "_resourceType": "fetch",
   "request": {"method": "DELETE", "url": "https://shop.example.com/api/cart/A-1", "headers": []},
   "response": {"status": 204, "content": {"mimeType": ""}}}
 ]}}`

// TestHARChromium: the DevTools form becomes the steps in order with the noise, cookies, static
// assets and unanswered requests left out, a redirect kept as its own hop, gaps as think times
// and the frames as send/expect.
func TestHARChromium(t *testing.T) {
	res, err := HAR([]byte(chromeHAR), HAROptions{Source: "shop.har"})
	if err != nil {
		t.Fatal(err)
	}
	checkPlan(t, res)
	text := squash(string(res.Plan))
	order := []string{`http "get_login"`, `follow_redirects = false`, `check { status = 302 }`, `http "get_home"`,
		`think_time = "2.5s"`, `http "post_cart"`, `path = "/api/cart?x=1&x=2"`, `x-api-key = local.x_api_key`,
		`json = { qty = 1, sku = "A-1" }`, `check { status = 201 }`, `websocket "ws_live"`, `send "send_1" { json = { sub = "cart" } }`,
		`expect "recv_2" { json = { type = "ok" } }`, `expect "recv_3" { binary = "AQID" }`,
		`expect "recv_4" { equals = "bye $${x}" }`, `close {}`, `sleep { duration = "1s" }`, `http "delete_a_1"`, `check { status = 204 }`}
	at := 0
	for _, w := range order {
		i := strings.Index(text[at:], w)
		if i < 0 {
			t.Fatalf("plan lacks %s after byte %d:\n%s", w, at, res.Plan)
		}
		at += i + len(w)
	}
	for _, bad := range []string{"recorded-cookie", "recorded-key", "cdn.example.net", "logo.svg", "data:", "blocked", "user-agent", "sec-ch-ua", "authority", "Sec-WebSocket-Key"} {
		if strings.Contains(string(res.Plan), bad) {
			t.Errorf("plan contains %q:\n%s", bad, res.Plan)
		}
	}
	if !strings.Contains(text, "2 static asset request(s) were left out") {
		t.Errorf("no note of the assets left out:\n%s", res.Plan)
	}
	kept, err := HAR([]byte(chromeHAR), HAROptions{KeepStatic: true, Host: "http://127.0.0.1:9"})
	if err != nil {
		t.Fatal(err)
	}
	checkPlan(t, kept)
	if k := string(kept.Plan); !strings.Contains(k, `base_url = "https://cdn.example.net"`) || !strings.Contains(k, `"/img/logo.svg"`) || !strings.Contains(k, `"http://127.0.0.1:9"`) {
		t.Errorf("--keep-static or -var host not applied:\n%s", k)
	}
}

// TestHARBad: what is not a HAR, or has nothing to replay, is a clear error.
func TestHARBad(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`<html>`, "not a HAR file"},
		{`{"log": {"entries": []}}`, "no request to replay"},
		{`{"log": {"entries": [{"startedDateTime": "2026-01-01T10:00:00Z", "request": {"method": "GET", "url": "https://x/a.png"}, "response": {"status": 200}}]}}`, "--keep-static"},
	} {
		if _, err := HAR([]byte(c.in), HAROptions{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("HAR(%.30s) = %v, want %q", c.in, err, c.want)
		}
	}
}
