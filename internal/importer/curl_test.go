package importer

import (
	"reflect"
	"strings"
	"testing"
)

// Real "Copy as cURL" forms: Chromium's (bash), Firefox's, and hand-written ones.
const (
	chromiumJSON = `curl 'https://api.example.com/v1/orders?status=open&page=2' \
  -H 'accept: application/json, text/plain, */*' \
  -H 'accept-language: en-US,en;q=0.9' \
  -H 'authorization: Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.sig' \
  -H 'content-type: application/json' \
  -b 'session=abc123secret; theme=dark' \
  -H 'origin: https://app.example.com' \
  -H 'priority: u=1, i' \
  -H 'referer: https://app.example.com/' \
  -H 'sec-ch-ua: "Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"' \
  -H 'sec-ch-ua-mobile: ?0' \
  -H 'sec-ch-ua-platform: "Linux"' \
  -H 'sec-fetch-dest: empty' \
  -H 'sec-fetch-mode: cors' \
  -H 'sec-fetch-site: same-site' \
  -H 'user-agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36' \
  -H 'x-client-version: 4.2.0' \
  --data-raw '{"symbol":"AAPL","qty":10,"tags":["a","b"]}'`
	firefoxForm  = `curl 'https://api.example.com/v1/login' --compressed -X POST -H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0' -H 'Accept: */*' -H 'Accept-Language: en-US,en;q=0.5' -H 'Accept-Encoding: gzip, deflate, br' -H 'Content-Type: application/x-www-form-urlencoded' -H 'Origin: https://app.example.com' -H 'Connection: keep-alive' -H 'Cookie: sid=xyzsecret' -H 'Sec-Fetch-Dest: empty' -H 'Sec-Fetch-Mode: cors' -H 'Sec-Fetch-Site: same-origin' --data-raw 'user=alice&password=pw'`
	chromiumANSI = `curl 'https://api.example.com/v1/notes' \
  -H 'content-type: application/json' \
  --data-raw $'{"note":"it\'s caf\u00e9 ${x}\\n"}'`
	basicAuth   = `curl -u alice:s3cretpw -L "https://api.example.com/v1/me?fields=name"`
	doubleQuote = `curl -XPUT "http://127.0.0.1:8000/api/items/7" -H "X-Note: say \"hi\" \$HOME" --data-binary "plain text"`
	jsonFlag    = `curl --json '{"a":1}' http://127.0.0.1:8000/api/a`
	getData     = `curl -G -d q=shoes -d page=1 http://127.0.0.1:8000/search`
)

// TestShellWords: the quoting forms a copied command uses.
func TestShellWords(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{`curl 'a b' "c d" e\ f`, []string{"curl", "a b", "c d", "e f"}},
		{"curl \\\n  -H 'x: 1'", []string{"curl", "-H", "x: 1"}},
		{`curl $'it\'s\tx\x41\u00e9'`, []string{"curl", "it's\txAé"}},
		{`curl "a\"b\$c\d"`, []string{"curl", `a"b$c\d`}},
		{`curl ab'cd'"ef"`, []string{"curl", "abcdef"}},
		{`curl ''`, []string{"curl", ""}},
	} {
		got, err := shellWords(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("shellWords(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{`curl 'open`, `curl "open`, `curl $'open`, `curl x\`} {
		if _, err := shellWords(bad); err == nil {
			t.Errorf("shellWords(%q): no error", bad)
		}
	}
}

// TestCurlForms: each form becomes a valid, fmt-clean step with its method, query, headers
// minus the noise, body and credentials read from the environment — never copied.
func TestCurlForms(t *testing.T) {
	for _, c := range []struct {
		name, cmd string
		want      []string
		secrets   []string
	}{
		{"chromium json", chromiumJSON, []string{
			`method = "POST"`, `path   = "/v1/orders"`, `query  = { page = "2", status = "open" }`,
			`authorization    = "Bearer ${local.bearer_token}"`, `Cookie           = local.cookie`,
			`x-client-version = "4.2.0"`, `accept = "application/json, text/plain, */*"`,
			`json = { qty = 10, symbol = "AAPL", tags = ["a", "b"] }`, `follow_redirects = false`,
			`env("LOADPLAN_BEARER_TOKEN", "")`, `default     = "https://api.example.com"`,
		}, []string{"eyJhbGci", "abc123secret", "sec-ch-ua", "user-agent", "referer", "priority"}},
		{"firefox form", firefoxForm, []string{
			`form   = { password = "pw", user = "alice" }`, `Cookie = local.cookie`, `Accept = "*/*"`,
		}, []string{"xyzsecret", "Accept-Encoding", "Firefox", "Connection"}},
		{"ansi-c quote", chromiumANSI, []string{`json   = { note = "it's café $${x}\n" }`}, nil},
		{"basic auth", basicAuth, []string{
			`Authorization = "Basic ${base64encode(local.basic_credentials)}"`, `query  = { fields = "name" }`,
			`follow_redirects = true`, `check { status = "2xx" }`,
		}, []string{"s3cretpw", "alice"}},
		{"double quotes, -XPUT", doubleQuote, []string{
			`method = "PUT"`, `X-Note = "say \"hi\" $HOME"`, `body   = "plain text"`,
			`Content-Type = "application/x-www-form-urlencoded"`, `default     = "http://127.0.0.1:8000"`,
		}, nil},
		{"--json", jsonFlag, []string{`json   = { a = 1 }`, `method = "POST"`}, nil},
		{"-G data", getData, []string{`query  = { page = "1", q = "shoes" }`}, []string{"method"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := Curl([]string{c.cmd}, "")
			if err != nil {
				t.Fatal(err)
			}
			checkPlan(t, res)
			text := string(res.Plan)
			for _, w := range c.want {
				if !strings.Contains(squash(text), squash(w)) {
					t.Errorf("plan lacks %s:\n%s", w, text)
				}
			}
			for _, s := range c.secrets {
				if strings.Contains(text, s) {
					t.Errorf("plan contains %q:\n%s", s, text)
				}
			}
		})
	}
}

// TestCurlSeveralAndBad: several commands are steps in order on one or more targets; what is
// not a curl command is an error naming it.
func TestCurlSeveralAndBad(t *testing.T) {
	res, err := Curl([]string{jsonFlag, getData, `curl https://other.example.org/x`}, "")
	if err != nil {
		t.Fatal(err)
	}
	checkPlan(t, res)
	text := string(res.Plan)
	a, b := strings.Index(text, `http "post_a"`), strings.Index(text, `http "get_search"`)
	if a < 0 || b < a || !strings.Contains(squash(text), `target = target.other_example_org`) {
		t.Errorf("steps not in order or second target missing:\n%s", text)
	}
	for _, c := range []struct{ cmd, want string }{
		{`wget http://x`, "does not start with curl"},
		{`curl -H`, "-H needs a value"},
		{`curl -d @body.json http://x`, "reads a file"},
		{`curl 'http://x`, "unclosed single quote"},
		{`curl ftp://x/y`, "not an absolute http(s) URL"},
		{`curl -s`, "no URL"},
	} {
		if _, err := Curl([]string{c.cmd}, ""); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Curl(%q) = %v, want %q", c.cmd, err, c.want)
		}
	}
}

// squash collapses white space, so that expectations do not depend on fmt's alignment.
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }
