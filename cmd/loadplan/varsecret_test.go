package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/loadplan/loadplan/internal/testkit"
)

// cliSecret is a sensitive variable's value given on the command line or in a -var-file. Its
// '+', '/', '=' and space have other spellings in a URL, so that the test also sees them masked
// where they are escaped.
const cliSecret = "vf-s3cr3t+/x= y"

// varSecretPlan sends var.token in a header, in the URL path and in checks (one of which fails
// on purpose, so that its name reaches the failures file).
const varSecretPlan = `variable "host" {
  type = string
}
variable "token" {
  type      = string
  sensitive = true
}
target "api" {
  base_url = var.host
}
scenario "s" {
  target = target.api
  http "get" {
    path    = "/v/${var.token}"
    headers = { X-Token = var.token }
    check {
      status        = 200
      body_contains = [var.token, "${var.token}-missing"]
      headers       = { X-Echo = var.token }
    }
  }
}
load {
  model      = "shared_iterations"
  vus        = 1
  iterations = 3
}
`

// TestSensitiveVarFromCLINeverPrinted runs a plan whose sensitive variable is given by
// --var-file, -var and -e, with --http-debug=full, against a loopback server that counts the
// requests carrying the real value (and echoes it in a header and the body): the server saw it
// in every request, and it appears nowhere — not in stdout, stderr (the debug output included,
// raw or URL-escaped), the CSV and JSON lines files, the summary export, JUnit or the report.
func TestSensitiveVarFromCLINeverPrinted(t *testing.T) {
	var carried, total atomic.Int64
	srv := testkit.NewCounter(t, func(w http.ResponseWriter, r *http.Request) {
		total.Add(1)
		tok := r.Header.Get("X-Token")
		if tok == cliSecret && r.URL.Path == "/v/"+cliSecret {
			carried.Add(1)
		}
		w.Header().Set("X-Echo", tok)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"token": tok})
	})
	file := writeSource(t, varSecretPlan)
	varFile := filepath.Join(t.TempDir(), "secret.vars")
	if err := os.WriteFile(varFile, []byte("token = \""+cliSecret+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, given := range [][]string{{"--var-file", varFile}, {"-var", "token=" + cliSecret}, {"-e", "token=" + cliSecret}} {
		carried.Store(0)
		total.Store(0)
		dir := t.TempDir()
		export, junit, report := filepath.Join(dir, "export.json"), filepath.Join(dir, "junit.xml"), filepath.Join(dir, "report.html")
		args := append([]string{"apply", "--http-debug=full", "-var", "host=" + srv.URL}, given...)
		args = append(args, "--out", "csv="+dir+"/csv/", "--out", "json="+filepath.Join(dir, "samples.jsonl"),
			"--summary-export", export, "--junit", junit, "--report", report, file)
		r := runCLI(t, args...)
		if r.code != exitOK || carried.Load() != 3 || total.Load() != 3 {
			t.Fatalf("%s: exit %d, the server saw the value in %d of %d requests, want 3 of 3\n%s\n%s",
				given[0], r.code, carried.Load(), total.Load(), r.stdout, r.stderr)
		}
		if got := exportedCount(t, export, "http_reqs"); got != 3 {
			t.Errorf("%s: http_reqs = %v, the server saw 3", given[0], got)
		}
		// The debug output shows every exchange, the value masked where it was.
		if n := strings.Count(r.stderr, "> X-Token: ***\n"); n != 3 {
			t.Errorf("%s: %d masked X-Token lines, want 3\n%s", given[0], n, r.stderr)
		}
		if n := strings.Count(r.stderr, "< X-Echo: ***\n"); n != 3 || strings.Count(r.stderr, `{"token":"***"}`) != 3 {
			t.Errorf("%s: the response's header and body not masked 3 times\n%s", given[0], r.stderr)
		}
		outputs := map[string]string{"stdout": r.stdout, "stderr": r.stderr}
		err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			outputs[path] = string(b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"export.json", "junit.xml", "report.html", "samples.jsonl", "_stats.csv", "_failures.csv"} {
			found := false
			for name := range outputs {
				found = found || strings.HasSuffix(name, want)
			}
			if !found {
				t.Errorf("%s: no output file *%s; files: %v", given[0], want, keys(outputs))
			}
		}
		spellings := []string{cliSecret, url.PathEscape(cliSecret), url.QueryEscape(cliSecret), "vf-s3cr3t"}
		for name, text := range outputs {
			for _, secret := range spellings {
				if i := strings.Index(text, secret); i >= 0 {
					t.Errorf("%s: %s holds the secret as %q: …%s…", given[0], filepath.Base(name), secret, text[max(0, i-80):min(len(text), i+40)])
				}
			}
		}
		// The failed check is still named, its secret part hidden.
		if !strings.Contains(r.stdout, "body contains (sensitive)") {
			t.Errorf("%s: the summary does not name the checks with (sensitive):\n%s", given[0], r.stdout)
		}
	}
}
