# The upper bound of a think-time range is not a duration.
target "api" {
  base_url = "http://127.0.0.1:8000"
}

scenario "rest" {
  think_time = "1s..x"
  http "health" { path = "/api/health" }
}
