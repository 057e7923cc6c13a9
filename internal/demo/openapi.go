package demo

import (
	_ "embed"
	"net/http"
)

// openAPIDoc describes the demo's REST routes (OpenAPI 3.1), as a FastAPI app serves its own at
// /openapi.json, so that `loadplan import openapi http://127.0.0.1:8000/openapi.json` works
// against the demo as against the backends it stands in for. openapi_test.go holds it to the
// routes the mux really serves.
//
//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI returns the document served at /openapi.json.
func OpenAPI() []byte { return append([]byte(nil), openAPIDoc...) }

// openapi answers GET /openapi.json. It is not counted in Counts: it describes the API rather
// than being part of it, and a test that imports the document then compares the server's counts
// with a run's would otherwise have to subtract it.
func openapi(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPIDoc)
}
