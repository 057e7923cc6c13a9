# The scenario names a target that does not exist.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  target = target.apii
  http "health" { path = "/api/health" }
}
