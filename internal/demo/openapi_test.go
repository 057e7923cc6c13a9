package demo

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestOpenAPIDescribesRealRoutes: /openapi.json is served (uncounted), and each operation it
// describes is a route the server counts under that very pattern — the document cannot drift
// from the mux without this failing.
func TestOpenAPIDescribesRealRoutes(t *testing.T) {
	s, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	resp, err := http.Get(s.URL() + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || resp.StatusCode != 200 || doc.OpenAPI != "3.1.0" {
		t.Fatalf("GET /openapi.json: %d %v %.80s", resp.StatusCode, err, body)
	}
	if n := s.Counts().Total(); n != 0 {
		t.Errorf("the document fetch was counted: %d", n)
	}
	ops := 0
	for path, methods := range doc.Paths {
		for method := range methods {
			ops++
			pattern := strings.ToUpper(method) + " " + path
			before := s.Counts().Requests[pattern]
			url := s.URL() + strings.ReplaceAll(path, "{symbol}", "AAPL")
			req, _ := http.NewRequest(strings.ToUpper(method), url, strings.NewReader(`{"user":"u","password":"p"}`))
			r, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r.Body.Close()
			if got := s.Counts().Requests[pattern]; got != before+1 {
				t.Errorf("%s: the server counted %d under that route, want %d", pattern, got, before+1)
			}
		}
	}
	if ops != 7 || s.Counts().Requests["other"] != 0 {
		t.Errorf("%d operations, %d unrouted requests; want 7 and 0", ops, s.Counts().Requests["other"])
	}
}
