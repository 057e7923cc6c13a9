# vu.id is only known while the test runs.
target "api" {
  base_url = "http://127.0.0.1:8000"
  headers  = { "X-User" = "${vu.id}" }
}
scenario "rest" {
  http "health" { path = "/api/health" }
}
