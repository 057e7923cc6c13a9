# Two steps with the same name in one scenario.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "health" { path = "/api/health" }
  http "health" { path = "/api/stocks" }
}
