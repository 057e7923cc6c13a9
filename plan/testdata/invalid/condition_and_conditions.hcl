# condition and conditions are alternatives.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "health" { path = "/api/health" }
}
threshold "http_req_duration" {
  condition  = "p(95) < 300ms"
  conditions = ["max < 1s"]
}
