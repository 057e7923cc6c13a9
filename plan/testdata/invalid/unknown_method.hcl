# A misspelt HTTP method.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "health" {
    method = "GETT"
    path   = "/api/health"
  }
}
