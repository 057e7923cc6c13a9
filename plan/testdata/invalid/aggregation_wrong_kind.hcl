# rate does not apply to a trend metric.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "health" { path = "/api/health" }
}
threshold "http_req_duration" { condition = "rate < 0.1" }
