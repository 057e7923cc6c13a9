# base_url needs a scheme.
target "api" { base_url = "localhost:8000" }
scenario "rest" {
  http "health" { path = "/api/health" }
}
