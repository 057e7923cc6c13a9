# Locust's wait_time on a scenario.
target "api" { base_url = "http://127.0.0.1:8000" }

scenario "rest" {
  wait_time = "2s"
  http "health" { path = "/api/health" }
}
