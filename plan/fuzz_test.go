package plan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// FuzzLoad: arbitrary bytes as a plan never panic, and a plan whose HCL does not parse never
// loads without an error diagnostic. The seed corpus is every plan in this repository.
func FuzzLoad(f *testing.F) {
	for _, pattern := range []string{"../plans/*.hcl", "testdata/valid/*.hcl", "testdata/invalid/*.hcl"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(""))
	f.Add([]byte("scenario \"x\" {"))
	f.Add([]byte("threshold \"http_reqs{\" { condition = \"count >\" }"))
	f.Add([]byte("load { stage { duration = \"1s\" target = 1e400 } }"))
	// Hostile seeds: nesting past the bound, a string doubled, a for that multiplies, absurd VUs.
	f.Add([]byte("locals { n = " + strings.Repeat("(", 100_000) + "1" + strings.Repeat(")", 100_000) + " }"))
	f.Add([]byte("locals { n = \"" + strings.Repeat("${\"", 300) + "\" }"))
	f.Add([]byte("locals {\n a = \"xx\"\n b = \"${local.a}${local.a}\"\n c = \"${local.b}${local.b}\"\n}"))
	f.Add([]byte("locals { n = [for a in range(1000): [for b in range(1000): b]] }"))
	f.Add([]byte("locals { s = join(\"\", [for i in range(1e9): \"x\"]) }"))
	f.Add([]byte("locals { s = format(\"%1000000000d\", 1) }"))
	f.Add([]byte("load {\n vus = 1e9\n duration = \"99999999999h\"\n}"))
	f.Add([]byte("data \"d\" { csv = \"/dev/zero\" }"))
	// Issue 12: setup, tasks, when, repeat, pacing, and their hostile forms.
	f.Add([]byte("scenario \"s\" {\n pacing = \"1s\"\n setup {\n http \"l\" {\n url = \"http://127.0.0.1:9/\"\n capture \"t\" { json = \"t\" }\n }\n }\n" +
		" task \"a\" {\n weight = 3\n when = vu.id > 1\n http \"x\" {\n url = \"http://127.0.0.1:9/${vu.t}\"\n when = iter % 2 == 0\n }\n }\n" +
		" task \"b\" {\n repeat {\n while = iter < 3\n max = 2\n sleep { duration = \"1ms\" }\n }\n }\n" +
		" teardown {\n http \"o\" { url = \"http://127.0.0.1:9/${vu.t}\" }\n }\n}"))
	f.Add([]byte("scenario \"s\" {\n repeat {\n until = capture.x == \"1\"\n max = 3\n http \"x\" {\n url = \"http://127.0.0.1:9/\"\n capture \"x\" { json = \"x\" }\n }\n }\n}"))
	f.Add([]byte("scenario \"s\" {\n repeat {\n while = true\n http \"x\" { url = \"http://127.0.0.1:9/\" }\n }\n}"))
	f.Add([]byte("scenario \"s\" {\n repeat {\n count = 1e9\n repeat {\n count = 1e9\n sleep { duration = \"1s\" }\n }\n }\n}"))
	f.Add([]byte("scenario \"s\" {\n task \"a\" {\n weight = 1e400\n sleep { duration = \"1s\" }\n }\n iterations_per_second = 0\n}"))
	f.Fuzz(func(t *testing.T, src []byte) {
		p, diags := LoadSource("fuzz.hcl", src, Options{Env: map[string]string{}})
		if d := checkNesting("fuzz.hcl", src); d != nil {
			// The parser would overflow the stack here: Load must refuse it without parsing.
			if !diags.HasErrors() || p != nil {
				t.Fatalf("a plan nested past the bound loaded")
			}
			return
		}
		_, parseDiags := hclsyntax.ParseConfig(src, "fuzz.hcl", hcl.InitialPos)
		if parseDiags.HasErrors() && !diags.HasErrors() {
			t.Fatalf("malformed HCL loaded without errors")
		}
		if diags.HasErrors() && p != nil {
			t.Fatalf("a plan with errors was returned")
		}
		if !diags.HasErrors() && p == nil {
			t.Fatalf("no plan and no error")
		}
		if p != nil {
			if err := flowInvariants(p); err != nil {
				t.Fatal(err)
			}
			evalAll(p)
		}
	})
}

// evalAll evaluates every template of a loaded plan once: errors are fine, panics are not.
func evalAll(p *Plan) {
	rt := &Runtime{VU: 1, Captures: map[string]string{}, VUCaptures: map[string]string{}, Rows: map[string][]string{}}
	tpl := func(t *Template) {
		_, _ = t.String(rt)
		_, _ = t.JSON(rt)
		_ = t.Display()
	}
	kvs := func(list []KV) {
		for _, kv := range list {
			tpl(kv.Value)
		}
	}
	for _, t := range p.Targets {
		kvs(t.Headers)
	}
	for _, s := range p.Scenarios {
		for _, t := range s.Tasks {
			_, _ = t.When.Bool(rt)
		}
		s.PickTask(0.5, nil)
		s.Walk(func(st *Step) {
			_, _ = st.When.Bool(rt)
			if r := st.Repeat; r != nil {
				_, _ = r.While.Bool(rt)
				_, _ = r.Until.Bool(rt)
			}
			if h := st.HTTP; h != nil {
				tpl(h.URL)
				tpl(h.Body)
				tpl(h.JSON)
				kvs(h.Query)
				kvs(h.Headers)
				kvs(h.Form)
			}
			if w := st.WebSocket; w != nil {
				tpl(w.URL)
				kvs(w.Headers)
				kvs(w.Query)
				for _, ws := range w.Steps {
					if ws.Send != nil {
						tpl(ws.Send.Text)
						tpl(ws.Send.JSON)
					}
					if ws.Match != nil {
						tpl(ws.Match.JSON)
						tpl(ws.Match.Equals)
					}
				}
			}
		})
	}
}
