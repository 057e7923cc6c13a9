package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/loadplan/loadplan/executor/step"
	"github.com/loadplan/loadplan/plan"
)

// debugMode is --http-debug's value: off, heads ("--http-debug") or full ("--http-debug=full").
// It is a boolean flag that also takes =full, as k6's.
type debugMode string

func (d *debugMode) String() string   { return string(*d) }
func (d *debugMode) IsBoolFlag() bool { return true }
func (d *debugMode) Set(v string) error {
	switch v {
	case "true", "headers":
		*d = "headers"
	case "full":
		*d = "full"
	case "false", "":
		*d = ""
	default:
		return fmt.Errorf("write --http-debug or --http-debug=full")
	}
	return nil
}

// masked replaces a secret in --http-debug's output.
const masked = "***"

// secretHeaders are masked whatever their value: credentials by their nature.
var secretHeaders = map[string]bool{"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
	"X-Api-Key": true, "X-Auth-Token": true}

// httpDebugger prints exchanges for --http-debug to w, masking secrets: the values of the
// secretHeaders, and anywhere in the URL, headers and bodies every secret the plan reads
// (plan.Plan.Secrets: the values of its sensitive variables however they were given — default,
// LOADPLAN_VAR_name, -var-file, -var or -e — and of the environment variables it reads with
// env("NAME")), also in their URL- and JSON-escaped spellings. One mutex serialises the VUs'
// writes.
type httpDebugger struct {
	mu      sync.Mutex // guards w: the VUs call Exchange concurrently
	w       io.Writer
	full    bool
	secrets []string // longest first, so that a secret containing another is masked whole
}

// newHTTPDebugger returns the debugger of mode for plan p; nil when mode is off.
func newHTTPDebugger(mode debugMode, w io.Writer, p *plan.Plan) step.HTTPDebugger {
	if mode == "" {
		return nil
	}
	d := &httpDebugger{w: w, full: mode == "full"}
	seen := map[string]bool{}
	for _, s := range p.Secrets {
		// as written, in a query, in a path segment or a whole path (url.URL.String's), in JSON
		spellings := []string{s, url.QueryEscape(s), url.PathEscape(s), (&url.URL{Path: s}).EscapedPath(), jsonEscaped(s)}
		for _, v := range spellings {
			if v != "" && !seen[v] {
				seen[v] = true
				d.secrets = append(d.secrets, v)
			}
		}
	}
	sort.SliceStable(d.secrets, func(i, j int) bool { return len(d.secrets[i]) > len(d.secrets[j]) })
	return d
}

// jsonEscaped is s as it appears inside a JSON string (a json body holding the secret).
func jsonEscaped(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(s) != nil {
		return s
	}
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSuffix(b.String(), "\n"), `"`), `"`)
}

// Bodies implements step.HTTPDebugger: bodies only for --http-debug=full.
func (d *httpDebugger) Bodies() bool { return d.full }

// Exchange implements step.HTTPDebugger: the request, then the response, as k6 prints them.
func (d *httpDebugger) Exchange(x *step.HTTPExchange) {
	var b strings.Builder
	fmt.Fprintf(&b, "loadplan http-debug %s/%s\n> %s %s\n", x.Scenario, x.Step, x.Method, d.mask(x.URL.String()))
	d.headers(&b, "> ", x.Header)
	if d.full && len(x.Body) > 0 {
		fmt.Fprintf(&b, ">\n%s\n", d.body(x.Body))
	}
	if x.Err != nil {
		fmt.Fprintf(&b, "< no response: %s\n\n", d.mask(x.Err.Error()))
	} else {
		fmt.Fprintf(&b, "< %d %s\n", x.Status, http.StatusText(x.Status))
		d.headers(&b, "< ", x.RespHeader)
		if d.full && len(x.RespBody) > 0 {
			fmt.Fprintf(&b, "<\n%s\n", d.body(bytes.TrimRight(x.RespBody, "\n")))
		}
		b.WriteString("\n")
	}
	d.write(b.String())
}

// WSMessage implements step.WSDebugger (--http-debug=full): one WebSocket message, > sent or
// < received, text as is and binary Go-quoted, bounded as the HTTP bodies are.
func (d *httpDebugger) WSMessage(m *step.WSMessage) {
	dir := "<"
	if m.Sent {
		dir = ">"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "loadplan ws-debug %s/%s\n", m.Scenario, m.Step)
	switch {
	case m.Sent && m.Close != 0:
		fmt.Fprintf(&b, "%s close %d\n\n", dir, m.Close)
	case m.Binary:
		fmt.Fprintf(&b, "%s binary, %d bytes\n%s\n\n", dir, len(m.Data), strconv.Quote(d.body(m.Data)))
	default:
		fmt.Fprintf(&b, "%s text, %d bytes\n%s\n\n", dir, len(m.Data), d.body(m.Data))
	}
	d.write(b.String())
}

// write writes one exchange or message whole: the VUs call the debugger concurrently.
func (d *httpDebugger) write(s string) {
	d.mu.Lock()
	_, _ = io.WriteString(d.w, s)
	d.mu.Unlock()
}

// debugShown bounds a body or message as --http-debug=full prints it: enough to read an API's
// answer, not a download's megabytes in the terminal.
const debugShown = 16 << 10

// body is b masked, then cut at debugShown bytes (masking first, so that the cut cannot leave
// the start of a secret unmasked) on a UTF-8 boundary, saying how long it was.
func (d *httpDebugger) body(b []byte) string {
	s := d.mask(string(b))
	if len(s) <= debugShown {
		return s
	}
	cut := debugShown
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s\n… (cut: %d bytes in all)", s[:cut], len(b))
}

func (d *httpDebugger) headers(b *strings.Builder, prefix string, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			if secretHeaders[http.CanonicalHeaderKey(k)] {
				v = masked
			}
			fmt.Fprintf(b, "%s%s: %s\n", prefix, k, d.mask(v))
		}
	}
}

// mask replaces every secret value in s.
func (d *httpDebugger) mask(s string) string {
	for _, sec := range d.secrets {
		s = strings.ReplaceAll(s, sec, masked)
	}
	return s
}
