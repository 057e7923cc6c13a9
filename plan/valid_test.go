package plan

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/loadplan/loadplan/metrics"
)

func eq(t *testing.T, field string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", field, got, want)
	}
}

// str evaluates a template for rt, failing the test on an error.
func str(t *testing.T, field string, tp *Template, rt *Runtime) string {
	t.Helper()
	if tp == nil {
		t.Fatalf("%s is nil", field)
	}
	s, err := tp.String(rt)
	if err != nil {
		t.Fatalf("%s: %v", field, err)
	}
	return s
}

func kvText(t *testing.T, field string, kvs []KV, rt *Runtime) [][2]string {
	t.Helper()
	out := [][2]string{}
	for _, kv := range kvs {
		out = append(out, [2]string{kv.Name, str(t, field+"."+kv.Name, kv.Value, rt)})
	}
	return out
}

func loadValid(t *testing.T) *Plan {
	t.Helper()
	p, diags := LoadPlan([]string{"testdata/valid/full.hcl"}, Options{Env: map[string]string{"LOADPLAN_TEST_INFLUX": "s3cret"}})
	if diags.HasErrors() {
		t.Fatalf("unexpected diagnostics:\n%s", renderDiags(diags))
	}
	return p
}

func TestValidPlanTopLevel(t *testing.T) {
	p := loadValid(t)
	eq(t, "Files", p.Files, []string{"testdata/valid/full.hcl"})
	eq(t, "len(Variables)", len(p.Variables), 3)
	eq(t, "Variables[0]", [3]string{p.Variables[0].Name, p.Variables[0].Type, p.Variables[0].Value}, [3]string{"host", "string", "http://127.0.0.1:9"})
	eq(t, "Variables[1].Value", p.Variables[1].Value, "5")
	eq(t, "Variables[2].Value", p.Variables[2].Value, "(sensitive)")

	eq(t, "len(Targets)", len(p.Targets), 1)
	tg := p.Targets[0]
	eq(t, "Target.Name", tg.Name, "api")
	eq(t, "Target.BaseURL", tg.BaseURL, "http://127.0.0.1:9")
	eq(t, "Target.Timeout", tg.Timeout, 5*time.Second)
	eq(t, "Target.Headers", kvText(t, "Target.Headers", tg.Headers, nil), [][2]string{{"User-Agent", "loadplan//api"}})
	eq(t, "Target.Pos", tg.Pos, Pos{File: "testdata/valid/full.hcl", Line: 23, Column: 1})

	eq(t, "len(Data)", len(p.Data), 1)
	f := p.Data[0]
	eq(t, "Feeder.Name", f.Name, "users")
	eq(t, "Feeder.Path", f.Path, filepath.Join("testdata", "valid", "users.csv"))
	eq(t, "Feeder.Mode", f.Mode, Unique)
	eq(t, "Feeder.Header", f.Header, []string{"user", "password"})
	eq(t, "Feeder.Rows", f.Rows, [][]string{{"alice", "pa55"}, {"bob", "s3cret"}})

	ld := p.Load
	eq(t, "Load.Model", ld.Model, Users)
	eq(t, "Load.StartVUs", ld.StartVUs, 1)
	eq(t, "Load.GracefulRampDown", ld.GracefulRampDown, 5*time.Second)
	eq(t, "Load.GracefulStop", ld.GracefulStop, 10*time.Second)
	eq(t, "Load.TimeUnit", ld.TimeUnit, time.Second)
	eq(t, "Load.MaxScheduleLag", ld.MaxScheduleLag, time.Second)
	eq(t, "Load.MaxDroppedIterations", ld.MaxDroppedIterations, 0)
	eq(t, "len(Load.Stages)", len(ld.Stages), 2)
	eq(t, "Load.Stages[0]", [2]any{ld.Stages[0].Duration, ld.Stages[0].Target}, [2]any{10 * time.Second, 10.0})
	eq(t, "Load.Stages[1]", [2]any{ld.Stages[1].Duration, ld.Stages[1].Target}, [2]any{20 * time.Second, 0.0})

	eq(t, "len(Thresholds)", len(p.Thresholds), 3)
	th := p.Thresholds[0]
	eq(t, "Threshold.Name", th.Name, "http_req_duration{scenario=rest,step=quote}")
	eq(t, "Threshold.Metric", th.Metric, metrics.HTTPReqDuration)
	eq(t, "Threshold.Selector", th.Selector, map[string]string{"scenario": "rest", "step": "quote"})
	eq(t, "len(Conditions)", len(th.Conditions), 2)
	eq(t, "Conditions[0]", [4]any{th.Conditions[0].Agg, th.Conditions[0].P, th.Conditions[0].Op, th.Conditions[0].Bound}, [4]any{"p", 95.0, "<", 300.0})
	eq(t, "Conditions[1].Bound", th.Conditions[1].Bound, 2000.0)
	eq(t, "Threshold.AbortOnFail", th.AbortOnFail, true)
	eq(t, "Threshold.Delay", th.Delay, 10*time.Second)
	eq(t, "Threshold.Window", th.Window, time.Minute)
	// A websocket step named by its own label is normalised to "<websocket>.<step>".
	eq(t, "Thresholds[1].Selector", p.Thresholds[1].Selector, map[string]string{"step": "scope.samples"})
	eq(t, "Thresholds[2].Stage", p.Thresholds[2].Stage, 2)
	eq(t, "Thresholds[2].Bound", p.Thresholds[2].Conditions[0].Bound, 0.01)

	eq(t, "len(Outputs)", len(p.Outputs), 4)
	// Without Options.Outputs the blocks are kept as constants of their natural type; the kinds'
	// schemas type and check them (outputs/registry's TestFullPlanOutputs loads this file with them).
	type attrs = map[string]any
	values := func(o *OutputBlock) (attrs, []string) {
		m, secret := attrs{}, []string(nil)
		for _, a := range o.Attrs {
			m[a.Name] = a.Value
			if a.Secret {
				secret = append(secret, a.Name)
			}
		}
		return m, secret
	}
	for i, want := range []struct {
		kind   string
		attrs  attrs
		secret []string
	}{
		{"csv", attrs{"path": "results/run.csv.gz", "aggregated": true}, nil},
		{"prometheus", attrs{"listen": "127.0.0.1:0", "linger": "5s", "testid": "t1"}, nil},
		{"influxdb", attrs{"url": "http://127.0.0.1:8086", "bucket": "db/rp", "token": "s3cret", "batch_size": 100,
			"flush_interval": "2s", "required": false}, []string{"token"}},
		{"json", attrs{}, nil},
	} {
		got, secret := values(p.Outputs[i])
		eq(t, fmt.Sprintf("Outputs[%d].Kind", i), p.Outputs[i].Kind, want.kind)
		eq(t, fmt.Sprintf("Outputs[%d].Attrs", i), got, want.attrs)
		eq(t, fmt.Sprintf("Outputs[%d] secrets", i), secret, want.secret)
	}
}

func TestValidPlanHTTP(t *testing.T) {
	p := loadValid(t)
	eq(t, "len(Scenarios)", len(p.Scenarios), 2)
	s := p.Scenarios[0]
	eq(t, "Scenario.Name", s.Name, "rest")
	eq(t, "Scenario.Target", s.Target, p.Targets[0])
	eq(t, "Scenario.Weight", s.Weight, 3)
	eq(t, "Scenario.ThinkTime", s.ThinkTime, ThinkTime{Min: time.Second, Max: 3 * time.Second})
	eq(t, "Scenario.Tags", s.Tags, map[string]string{"team": "payments"})
	eq(t, "Scenario.Load", s.Load, (*Load)(nil))
	eq(t, "Scenario.Feeders", s.Feeders, []*Feeder{p.Data[0]})
	eq(t, "Scenario.MetricTags", *s.MetricTags, metrics.Tags{Scenario: "rest"})
	eq(t, "len(Steps)", len(s.Steps), 4)
	eq(t, "Step kinds", []StepKind{s.Steps[0].Kind, s.Steps[1].Kind, s.Steps[2].Kind, s.Steps[3].Kind},
		[]StepKind{HTTPStepKind, HTTPStepKind, SleepStepKind, HTTPStepKind})
	eq(t, "Sleep", s.Steps[2].Sleep, ThinkTime{Min: 100 * time.Millisecond, Max: 200 * time.Millisecond})

	rt := &Runtime{VU: 7, Iter: 2, Scenario: "rest", Captures: map[string]string{"token": "tk"},
		Rows: map[string][]string{"users": {"bob", "s3cret"}}}
	login := s.Steps[0].HTTP
	eq(t, "login.Method", login.Method, "POST")
	eq(t, "login.URL", str(t, "login.URL", login.URL, rt), "http://127.0.0.1:9/api/login")
	eq(t, "login.URL constant", login.URL.IsConstant(), true)
	js, err := login.JSON.JSON(rt)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "login.JSON", string(js), `{"password":"s3cret","user":"bob","vu":7}`)
	eq(t, "login defaults", [4]any{login.Timeout, login.FollowRedirects, login.MaxRedirects, login.FailOnCheck},
		[4]any{5 * time.Second, true, 10, false}) // fail_on_check is off by default (k6)
	eq(t, "len(login.Checks)", len(login.Checks), 2)
	c0 := login.Checks[0]
	eq(t, "status check", [4]any{c0.Kind, c0.Name, c0.Statuses, c0.StatusRanges},
		[4]any{CheckStatus, "status in (200, 2xx)", []int{200}, [][2]int{{200, 299}}})
	c1 := login.Checks[1]
	eq(t, "json check", [4]any{c1.Kind, c1.Path, c1.JSONValue, c1.Name}, [4]any{CheckJSONEquals, "ok", "true", "json ok == true"})
	eq(t, "login.Captures", *login.Captures[0], Capture{Name: "token", Kind: CaptureJSON, Path: "token", Required: true, Pos: login.Captures[0].Pos})
	eq(t, "login.Tags", *login.Tags, metrics.Tags{Scenario: "rest", Step: "login", Target: "api", Method: "POST",
		URL: "/api/login", Group: "http"})

	q := s.Steps[1].HTTP
	eq(t, "quote.URL", str(t, "quote.URL", q.URL, rt), "http://127.0.0.1:9/api/stocks/tk/2")
	eq(t, "quote.URL constant", q.URL.IsConstant(), false)
	eq(t, "quote.URL display", q.URL.Display(), "http://127.0.0.1:9/api/stocks/${capture.token}/${iter}")
	eq(t, "quote.URLTag", q.URLTag, "/api/stocks/{symbol}")
	eq(t, "quote.Query", kvText(t, "Query", q.Query, rt), [][2]string{{"full", "yes"}, {"n", "2"}})
	eq(t, "quote.Headers", kvText(t, "Headers", q.Headers, rt), [][2]string{{"Authorization", "Bearer tk"}})
	eq(t, "quote settings", [5]any{q.Timeout, q.FollowRedirects, q.MaxRedirects, q.FailOnCheck, *q.ThinkTime},
		[5]any{2 * time.Second, false, 0, false, ThinkTime{Min: 250 * time.Millisecond, Max: 250 * time.Millisecond}})
	var kinds []CheckKind
	var names []string
	for _, c := range q.Checks {
		kinds = append(kinds, c.Kind)
		names = append(names, c.Name)
	}
	eq(t, "quote check kinds", kinds, []CheckKind{CheckStatus, CheckHeaderEquals, CheckHeaderMatches, CheckBodyContains,
		CheckBodyContains, CheckBodyMatches, CheckMaxDuration})
	eq(t, "quote check names", names, []string{"status in 200-299", "header Content-Type == application/json",
		"header X-Id =~ ^[0-9]+$", `body contains "price"`, `body contains "symbol"`, `body =~ "price":\s*[0-9]`, "duration <= 500ms"})
	eq(t, "header regexp", q.Checks[2].Regexp.MatchString("123"), true)
	eq(t, "max duration", q.Checks[6].Duration, 500*time.Millisecond)
	eq(t, "quote capture", [3]any{q.Captures[0].Kind, q.Captures[0].Path, q.Captures[0].Required}, [3]any{CaptureHeader, "X-Id", false})
	eq(t, "quote.Tags.URL", q.Tags.URL, "/api/stocks/{symbol}")

	form := s.Steps[3].HTTP
	eq(t, "form.Method", form.Method, "PUT")
	eq(t, "form.URL", str(t, "form.URL", form.URL, rt), "http://127.0.0.1:9/form")
	eq(t, "form.Form", kvText(t, "Form", form.Form, rt), [][2]string{{"a", "1"}, {"b", "x7"}})
}

func TestValidPlanWebSocket(t *testing.T) {
	p := loadValid(t)
	s := p.Scenarios[1]
	eq(t, "Scenario.Name", s.Name, "stream")
	eq(t, "Scenario.Weight", s.Weight, 1)
	ld := s.Load
	eq(t, "Load", [6]any{ld.Model, ld.StartRate, ld.TimeUnit, ld.PreAllocatedVUs, ld.MaxVUs, len(ld.Stages)},
		[6]any{ArrivalRate, 60.0, time.Minute, 2, 4, 1})
	ws := s.Steps[0].WebSocket
	rt := &Runtime{VU: 3, Captures: map[string]string{"seq": "41"}}
	eq(t, "ws.Name", ws.Name, "scope")
	eq(t, "ws.URL", str(t, "ws.URL", ws.URL, rt), "ws://127.0.0.1:9/api/oscilloscope/ws")
	eq(t, "ws.Query", kvText(t, "Query", ws.Query, rt), [][2]string{{"frequency", "20"}})
	eq(t, "ws.Headers", kvText(t, "Headers", ws.Headers, rt), [][2]string{{"Authorization", "Bearer t0p"}})
	eq(t, "ws settings", [5]any{ws.Subprotocols, ws.Timeout, ws.MaxMessageSize, ws.Compression, ws.Session},
		[5]any{[]string{"v1"}, 3 * time.Second, int64(4096), true, Persistent})
	eq(t, "ws.Reconnect", *ws.Reconnect, Reconnect{MaxAttempts: 4, Backoff: "constant", Initial: 50 * time.Millisecond, Max: time.Second})
	eq(t, "ws.Tags", *ws.Tags, metrics.Tags{Scenario: "stream", Step: "scope", Target: "api", Method: "WS",
		URL: "/api/oscilloscope/ws", Group: "ws"})
	eq(t, "len(OnMessage)", len(ws.OnMessage), 1)
	om := ws.OnMessage[0]
	mj, _ := om.Match.JSON.JSON(nil)
	eq(t, "on_message", [3]string{om.Name, string(mj), str(t, "reply", om.Reply.Text, nil)}, [3]string{"heartbeat", `{"type":"heartbeat"}`, "pong"})

	var kinds []WSActionKind
	var names []string
	for _, st := range ws.Steps {
		kinds = append(kinds, st.Kind)
		names = append(names, st.Tags.Step)
	}
	eq(t, "ws step kinds", kinds, []WSActionKind{WSSend, WSExpect, WSSend, WSReceive, WSPing, WSSleep, WSClose})
	eq(t, "ws step tags", names, []string{"scope.start", "scope.samples", "scope.who", "scope.watch", "scope.rtt", "scope.sleep", "scope.close"})
	start := ws.Steps[0]
	eq(t, "send start", [4]any{str(t, "start", start.Send.Text, nil), start.Send.JSON == nil, start.Repeat, start.Interval},
		[4]any{`{"command":"start"}`, true, 2, 10 * time.Millisecond})
	ex := ws.Steps[1]
	ej, _ := ex.Match.JSON.JSON(nil)
	eq(t, "expect", [5]any{string(ej), ex.Count, ex.Within, ex.Strict, ex.Captures[0].Path}, [5]any{`{"type":"data"}`, 3, 2 * time.Second, true, "seq"})
	who := ws.Steps[2]
	wj, err := who.Send.JSON.JSON(rt)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "send who (per iteration)", [2]any{who.Send.Text == nil, string(wj)}, [2]any{true, `{"command":"who","seq":"41","vu":3}`})
	eq(t, "receive", [2]any{ws.Steps[3].Duration, ws.Steps[3].ExpectRate}, [2]any{time.Second, 10.0})
	eq(t, "ping", [2]any{ws.Steps[4].Name, ws.Steps[4].Within}, [2]any{"rtt", DefaultExpectWithin})
	eq(t, "sleep", ws.Steps[5].Duration, 50*time.Millisecond)
	eq(t, "close", [2]int{ws.Steps[6].CloseCode, ws.Steps[6].ExpectCode}, [2]int{1001, 1000})
}

// TestTagsInterned checks that equal tag sets are one pointer, so series merge.
func TestTagsInterned(t *testing.T) {
	src := `
target "api" { base_url = "http://127.0.0.1:9" }
scenario "a" {
  http "x" { path = "/x" }
}
scenario "b" {
  http "x" { path = "/x" }
}
`
	p, diags := LoadSource("t.hcl", []byte(src), Options{})
	if diags.HasErrors() {
		t.Fatal(renderDiags(diags))
	}
	a, b := p.Scenarios[0].Steps[0].HTTP.Tags, p.Scenarios[1].Steps[0].HTTP.Tags
	if a == b {
		t.Errorf("different scenarios share tags")
	}
	p2, _ := LoadSource("t.hcl", []byte(src+`scenario "c" {
  http "x" { path = "/x" }
  http "y" { path = "/x" }
}`), Options{})
	c := p2.Scenarios[2]
	if c.Steps[0].HTTP.Tags == c.Steps[1].HTTP.Tags {
		t.Errorf("different steps share tags")
	}
	want := *DefaultLoad()
	want.VUs = 2 // one per scenario
	eq(t, "default load", *p.Load, want)
}

// TestSecretsNeverShown: a base URL or header from env() is used but never displayed.
func TestSecretsNeverShown(t *testing.T) {
	src := `
target "api" {
  base_url = env("SECRET_HOST")
  headers  = { Authorization = "Bearer ${env("SECRET_TOKEN")}" }
}
scenario "rest" {
  http "a" { path = "/a/${vu.id}" }
  http "b" { path = "/b" }
  websocket "w" {
    path = "/ws"
    send "s" { text = env("SECRET_TOKEN") }
  }
}
`
	env := map[string]string{"SECRET_HOST": "http://10.1.2.3:7777", "SECRET_TOKEN": "hunter2"}
	p, diags := LoadSource("s.hcl", []byte(src), Options{Env: env})
	if diags.HasErrors() {
		t.Fatal(renderDiags(diags))
	}
	s := p.Scenarios[0]
	a, b, w := s.Steps[0].HTTP, s.Steps[1].HTTP, s.Steps[2].WebSocket
	rt := &Runtime{VU: 4}
	eq(t, "a.URL value", str(t, "a", a.URL, rt), "http://10.1.2.3:7777/a/4")
	eq(t, "b.URL value", str(t, "b", b.URL, rt), "http://10.1.2.3:7777/b")
	eq(t, "w.URL value", str(t, "w", w.URL, rt), "ws://10.1.2.3:7777/ws")
	eq(t, "header value", str(t, "h", p.Targets[0].Headers[0].Value, rt), "Bearer hunter2")
	for _, shown := range []string{a.URLTag, b.URLTag, w.URLTag, a.Tags.URL, b.Tags.URL, w.Tags.URL,
		a.URL.Display(), b.URL.Display(), p.Targets[0].Headers[0].Value.Display(), w.Steps[0].Send.Text.Display()} {
		if strings.Contains(shown, "10.1.2.3") || strings.Contains(shown, "hunter2") {
			t.Errorf("a secret is shown: %q", shown)
		}
	}
	eq(t, "b.URLTag", b.URLTag, "/b") // the placeholder of the secret base_url goes with the host
	eq(t, "Target.Sensitive", p.Targets[0].Sensitive, true)
}
