# A json check maps paths to expected values.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  http "health" {
    path = "/api/health"
    check { json = "ok" }
  }
}
