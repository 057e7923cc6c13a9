# weight must be a number.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  weight = "three"
  http "health" { path = "/api/health" }
}
