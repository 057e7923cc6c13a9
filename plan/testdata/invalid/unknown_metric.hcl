# A misspelt metric name.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "health" { path = "/api/health" }
}
threshold "http_req_duraton" { condition = "p(95) < 300ms" }
